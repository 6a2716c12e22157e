"""Time `newsletter subscribers import` of a 10,000-row CSV, and show a re-import is a no-op.

Runs the real CLI in a subprocess against a fresh SQLite file, and against a fresh PostgreSQL
database when NEWSLETTER_TEST_POSTGRES_URL is set. Prints seconds; asserts nothing about time.

    .venv/bin/python bench/bench_import.py [--rows 10000]
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

NEWSLETTER = Path(sys.executable).with_name("newsletter")
TOPICS = ["speech: ASR, whisper", "model compression: quantization", "vision | RL", ""]


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


def run(url: str, *args: str) -> tuple[float, str]:
    env = {**os.environ, "NEWSLETTER_DATABASE_URL": url}
    start = time.perf_counter()
    done = subprocess.run([str(NEWSLETTER), *args], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {done.stderr}")
    return elapsed, done.stdout.strip().splitlines()[-1]


def measure(label: str, url: str, csv_path: Path) -> None:
    run(url, "db", "upgrade")
    first, summary1 = run(url, "subscribers", "import", str(csv_path))
    second, summary2 = run(url, "subscribers", "import", str(csv_path))
    print(f"{label:10} first import {first:6.2f} s  ({summary1})")
    print(f"{label:10} re-import    {second:6.2f} s  ({summary2})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    rows = parser.parse_args().rows
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "subscribers.csv"
        write_csv(csv_path, rows)
        print(f"{rows} rows, times include process start-up")
        measure("sqlite", f"sqlite:///{tmp}/bench.db", csv_path)
        admin_url = os.environ.get("NEWSLETTER_TEST_POSTGRES_URL")
        if not admin_url:
            print("postgresql skipped: set NEWSLETTER_TEST_POSTGRES_URL")
            return
        name = f"newsletter_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
            measure("postgresql", url, csv_path)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
