"""`newsletter subscribers import` at scale, the re-import that must change nothing, and an anchor.

Not a test: prints figures, asserts nothing. Run from the repository root:

    .venv/bin/python bench/bench_import.py            # 10,000 and 100,000 rows
    .venv/bin/python bench/bench_import.py --full     # adds 1,000,000 (the goal's size)

Runs the real CLI in a child process (times include its start-up) against a fresh database:
PostgreSQL when NEWSLETTER_TEST_POSTGRES_URL is set, a SQLite file otherwise. The CSV has the
columns people export from other tools (email, topics in the short form, frequency, send hour,
timezone). Peak RSS comes from the kernel (wait4). The anchor, measured in the same run on the
same database, is the bare COPY (executemany on SQLite) of the same number of subscriber rows
into an empty copy of the table, without any validation: what the database alone costs.
Goal (PostgreSQL, 2 cores): 1,000,000 rows in < 120 s.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from newsletter.store.scratch import scratch_database  # noqa: E402

NEWSLETTER = Path(sys.executable).with_name("newsletter")
TOPICS = ["speech: ASR, whisper", "model compression: quantization", "vision | RL", ""]
GOAL_SECONDS = 120.0
MILLION = 1_000_000


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "topics", "frequency", "send_hour", "timezone"])
        for i in range(rows):
            writer.writerow(
                [
                    f"reader{i}@example.org",
                    TOPICS[i % 4],
                    ("daily", "weekly")[i % 2],
                    i % 24,
                    ("UTC", "Europe/Paris", "America/New_York")[i % 3],
                ]
            )


def run(url: str, tmp: Path, *args: str) -> tuple[float, float, float, str]:
    """Seconds, CPU seconds, peak RSS (MB) and last output line of one CLI command."""
    env = {**os.environ, "NEWSLETTER_DATABASE_URL": url, "NEWSLETTER_VAR_DIR": str(tmp)}
    out, err = tmp / "import.out", tmp / "import.err"
    with out.open("w") as stdout, err.open("w") as stderr:
        started = time.perf_counter()
        child = subprocess.Popen([str(NEWSLETTER), *args], env=env, stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(args)} failed: {err.read_text()[-2000:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return elapsed, cpu, usage.ru_maxrss / 1024, out.read_text().strip().splitlines()[-1]


def anchor(url: str, rows: int) -> float:
    """Seconds to COPY ``rows`` bare subscriber rows into an empty copy of the table."""
    now = datetime.now(UTC)
    if url.startswith("postgresql"):
        with psycopg.connect(make_url(url).set(drivername="postgresql")
                             .render_as_string(hide_password=False)) as conn:
            conn.execute("CREATE TABLE anchor (LIKE subscribers INCLUDING ALL)")
            lines = "".join(
                f"anchor{i}@example.org\tactive\tdaily\t{i % 24}\tUTC\t10\tf\t0\t{i:016x}\t"
                f"import\t{now.isoformat()}\n"
                for i in range(rows)
            )
            started = time.perf_counter()
            with conn.cursor().copy(
                "COPY anchor (email, status, frequency, send_hour, timezone, digest_size, "
                "always_send, hard_bounces, token_nonce, origin, created_at) FROM STDIN"
            ) as copy:
                copy.write(lines)
            conn.commit()
            return time.perf_counter() - started
    import sqlite3

    conn = sqlite3.connect(make_url(url).database or "")
    conn.execute("CREATE TABLE anchor AS SELECT * FROM subscribers WHERE 0")
    conn.execute("CREATE UNIQUE INDEX anchor_email ON anchor (email)")
    values = [(i, f"anchor{i}@example.org", "active", "daily", i % 24, "UTC", 10, 0, 0,
               f"{i:016x}", "import", now.isoformat()) for i in range(rows)]
    started = time.perf_counter()
    conn.executemany(
        "INSERT INTO anchor (id, email, status, frequency, send_hour, timezone, digest_size, "
        "always_send, hard_bounces, token_nonce, origin, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", values)
    conn.commit()
    conn.close()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--full", action="store_true", help="also 1,000,000 (the goal's size)")
    args = parser.parse_args()
    sizes = sorted(set(args.sizes) | ({MILLION} if args.full else set()))
    admin_url = os.environ.get("NEWSLETTER_TEST_POSTGRES_URL")
    backend = "postgresql" if admin_url else "sqlite"
    print(f"{backend}; times include process start-up; goal is for 1,000,000 rows")
    with tempfile.TemporaryDirectory() as tmp:
        for rows in sizes:
            csv_path = Path(tmp) / "subscribers.csv"
            write_csv(csv_path, rows)
            label = f"newsletter_bench_import_{rows}"
            with scratch_database(admin_url, Path(tmp), label) as url:
                first, cpu, peak, summary1 = run(url, Path(tmp), "subscribers", "import",
                                                 str(csv_path))
                second, _, _, summary2 = run(url, Path(tmp), "subscribers", "import",
                                             str(csv_path))
                floor = anchor(url, rows)
            projected = first * MILLION / rows
            how = "measured" if rows == MILLION else "projected linearly"
            print(f"{rows:>9,} rows: import {first:7.1f} s ({summary1}), peak RSS {peak:.0f} MB")
            print(f"    at 1M ({how}) {projected:7.1f} s = {projected / GOAL_SECONDS:5.2f}x the "
                  f"{GOAL_SECONDS:.0f} s goal")
            print(f"    CPU of the import process {cpu:7.1f} s (user + system)")
            print(f"    re-import {second:7.1f} s ({summary2})")
            print(f"    anchor: bare COPY of {rows:,} subscriber rows {floor:6.2f} s; "
                  f"import = {first / floor:5.1f}x the anchor")
            csv_path.unlink()


if __name__ == "__main__":
    main()
