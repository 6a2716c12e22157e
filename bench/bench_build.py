"""`newsletter edition build` at scale: seconds, peak memory, and how both grow with subscribers.

Not a test: prints figures, asserts nothing. Run from the repository root:

    .venv/bin/python bench/bench_build.py                  # 10k and 100k, both kinds of topics
    .venv/bin/python bench/bench_build.py --full           # adds 1,000,000 (the goal's size)
    .venv/bin/python bench/bench_build.py --kind free --sizes 10000 --profile

Two kinds of subscribers: ``free`` (each typed a topic of their own: every profile is distinct,
the worst case) and ``catalog`` (each ticked 1-4 curated topics, about 2,000 distinct sets).
Each size gets a fresh database (PostgreSQL when NEWSLETTER_TEST_POSTGRES_URL is set, a SQLite
file otherwise) filled directly with COPY (not through any code under test), with the 272
bundled papers as today's candidates. The build runs as the real CLI in a child process; its
CPU and memory are those of its whole process tree (a large build chooses papers in worker
processes): memory is the peak of the summed PSS of the tree, sampled twice a second (pages the
processes share counted once), or the kernel's peak RSS when the build ran alone (wait4).
Set NEWSLETTER_EDITION_PROCESSES=1 to measure the single-process build. The anchor, measured
in the same run on the same
database, is the bare COPY of the very rows the build wrote into a copy of the ledger table:
the floor no build can beat. Goals (PostgreSQL, 2 cores): 1M free-text subscribers in < 120 s,
1M catalog subscribers in < 60 s, peak RSS < 600 MB, and RSS at 1M within 1.3x of RSS at 100k.
``--profile`` runs the build under cProfile and splits its time: scoring (``Matcher.prepare``)
against everything else.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import pstats
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import combinations, pairwise
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from newsletter.matching.catalog import CATALOG  # noqa: E402
from newsletter.matching.text import is_content, words  # noqa: E402
from newsletter.store.scratch import scratch_database  # noqa: E402

NEWSLETTER = Path(sys.executable).with_name("newsletter")
PAPERS = ROOT / "newsletter" / "sources" / "sample" / "papers.json"
GOAL_SECONDS = {"free": 120.0, "catalog": 60.0}
GOAL_RSS_MB = 600.0
GOAL_GROWTH = 1.3
MILLION = 1_000_000
CATALOG_SETS = 2_000


# --- databases ----------------------------------------------------------------------------------
def is_postgres(url: str) -> bool:
    return url.startswith("postgresql")


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def raw_connection(url: str) -> Iterator[Any]:
    if is_postgres(url):
        with psycopg.connect(libpq(url)) as conn:
            yield conn
    else:
        conn = sqlite3.connect(make_url(url).database or "")
        try:
            yield conn
            conn.commit()
        finally:
            conn.close()


def bulk(conn: Any, table: str, columns: Sequence[str], rows: Iterator[tuple[Any, ...]]) -> None:
    """COPY on PostgreSQL, executemany on SQLite: the fastest way in, no code under test."""
    if isinstance(conn, psycopg.Connection):
        with conn.cursor() as cursor, cursor.copy(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


# --- data ---------------------------------------------------------------------------------------
def load_papers(conn: Any, now: datetime) -> list[dict[str, Any]]:
    papers = json.loads(PAPERS.read_text(encoding="utf-8"))
    stamp = now if isinstance(conn, psycopg.Connection) else now.isoformat(sep=" ")
    rows = (
        (f"bench-{n}", p["title"], p["abstract"], "[]", "[]", "[]", "[]", n % 97, 0, stamp, stamp)
        for n, p in enumerate(papers)
    )
    bulk(conn, "papers", ("source_id", "title", "abstract", "authors", "categories",
                          "ai_keywords", "sources", "upvotes", "comments", "first_seen_at",
                          "updated_at"), rows)
    return list(papers)


def vocabulary(papers: Sequence[dict[str, Any]]) -> list[str]:
    """Words people might type: content words of the papers' titles and abstracts."""
    seen: dict[str, None] = {}
    for paper in papers:
        for word in words(f"{paper['title']} {paper['abstract']}"):
            if is_content(word) and not word.isdigit() and len(word) > 3:
                seen.setdefault(word, None)
    return list(seen)


def free_topics(vocab: Sequence[str], rng: random.Random) -> Iterator[list[dict[str, Any]]]:
    """One topic of the subscriber's own words each: every profile differs from every other."""
    while True:
        label = " ".join(rng.sample(vocab, 2))
        keywords = rng.sample(vocab, rng.randint(1, 3))
        yield [{"label": label, "keywords": keywords, "description": ""}]


def catalog_topics(rng: random.Random) -> Iterator[list[dict[str, Any]]]:
    """1 to 4 curated topics each, drawn from about 2,000 distinct sets."""
    topics = [
        {"label": t.label, "keywords": list(t.keywords), "description": t.description}
        for t in CATALOG
    ]
    every = [c for k in (1, 2, 3, 4) for c in combinations(range(len(topics)), k)]
    sets = rng.sample(every, min(CATALOG_SETS, len(every)))
    while True:
        yield [topics[i] for i in sets[rng.randrange(len(sets))]]


def load_subscribers(conn: Any, count: int, kind: str, vocab: Sequence[str], now: datetime) -> int:
    """``count`` active daily subscribers with their topics; returns the number of topic rows."""
    rng = random.Random(7)
    stamp = now if isinstance(conn, psycopg.Connection) else now.isoformat(sep=" ")
    yes, no = (True, False) if isinstance(conn, psycopg.Connection) else (1, 0)
    subscribers = (
        (n, f"reader{n}@example.org", "active", "daily", 7, "UTC", (5, 10, 10, 10, 20)[n % 5],
         yes if n % 7 == 0 else no, 0, uuid.UUID(int=n).hex[:16], "import", stamp, stamp)
        for n in range(1, count + 1)
    )
    bulk(conn, "subscribers", ("id", "email", "status", "frequency", "send_hour", "timezone",
                               "digest_size", "always_send", "hard_bounces", "token_nonce",
                               "origin", "created_at", "confirmed_at"), subscribers)
    source = free_topics(vocab, rng) if kind == "free" else catalog_topics(rng)
    written = 0

    def topics() -> Iterator[tuple[Any, ...]]:
        nonlocal written
        for n in range(1, count + 1):
            for position, topic in enumerate(next(source)):
                written += 1
                yield (n, position, topic["label"], json.dumps(topic["keywords"]), "[]", "[]",
                       topic["description"])

    bulk(conn, "topics", ("subscriber_id", "position", "label", "keywords", "authors",
                          "excluded", "description"), topics())
    if isinstance(conn, psycopg.Connection):
        conn.execute("SELECT setval('subscribers_id_seq', %s)", (count,))
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")  # as autovacuum would have long since on a real list
        conn.autocommit = False
    return written


# --- measuring ----------------------------------------------------------------------------------
# Starts the build from a small process and watches the build's whole process tree: a large build
# chooses papers in worker processes (children of a fork server), whose CPU and memory are the
# build's too. Every SAMPLE seconds it sums the tree's RSS and PSS (proportional set size: pages
# shared between the workers counted once in all) and remembers each process's CPU time; the
# build's own rusage comes exact from wait4. It starts from a small process because Linux carries
# the memory high-water mark of the process that execs into the new program (a fork of this
# script, which after making a million subscribers holds over a gigabyte, reported 1,215 MB for a
# 460 MB build).
LAUNCHER = """
import os, sys, time
report, command = sys.argv[1], sys.argv[2:]
TICK = os.sysconf("SC_CLK_TCK")
pid = os.fork()
if pid == 0:
    os.execv(command[0], command)

def tree():
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
                parents[int(entry)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
            except OSError:
                pass
    found, todo = {}, [pid]
    while todo:
        p = todo.pop()
        if p in parents:
            found[p] = parents[p][1] / TICK
            todo.extend(c for c, (parent, _) in parents.items() if parent == p)
    return found

def memory(p):
    rss = pss = 0
    try:
        with open(f"/proc/{p}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss

cpu, peak_rss, peak_pss, most = {}, 0, 0, 1
while True:
    done, status, usage = os.wait4(pid, os.WNOHANG)
    if done:
        break
    seen = tree()
    cpu.update(seen)
    sizes = [memory(p) for p in seen]
    peak_rss = max(peak_rss, sum(r for r, _ in sizes))
    peak_pss = max(peak_pss, sum(q for _, q in sizes))
    most = max(most, len(seen))
    time.sleep(0.5)
cpu.pop(pid, None)
own = usage.ru_utime + usage.ru_stime
with open(report, "w") as out:
    out.write(f"{own} {sum(cpu.values())} {usage.ru_maxrss} {peak_rss} {peak_pss} {most}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


@dataclass(frozen=True)
class Run:
    """One build's figures: seconds; CPU of the build process and of its helper processes; peak
    RSS of the build process (kernel) and of the whole tree (sampled), and the tree's PSS, MB."""

    seconds: float
    cpu: float
    helpers_cpu: float
    own_rss: float
    tree_rss: float
    tree_pss: float
    processes: int
    summary: str


def run_build(url: str, issue: str, tmp: Path, profile: Path | None) -> Run:
    """``newsletter edition build`` in its own process tree. CPU time is the figure a loaded
    machine distorts least."""
    env = {**os.environ, "NEWSLETTER_DATABASE_URL": url, "NEWSLETTER_VAR_DIR": str(tmp)}
    command = [str(NEWSLETTER), "edition", "build", "--date", issue]
    if profile is not None:
        command = [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "newsletter",
                   *command[1:]]
        env["NEWSLETTER_EDITION_PROCESSES"] = "1"  # cProfile sees only its own process
    out, err, report = tmp / "build.out", tmp / "build.err", tmp / "build.rusage"
    with out.open("w") as stdout, err.open("w") as stderr:
        started = time.perf_counter()
        returncode = subprocess.call(
            [sys.executable, "-c", LAUNCHER, str(report), *command],
            env=env, stdout=stdout, stderr=stderr,
        )
        elapsed = time.perf_counter() - started
    if returncode != 0:
        raise SystemExit(f"edition build failed: {err.read_text()}")
    first = out.read_text().strip().split("edition totals")[0]
    own, helpers, own_kb, tree_kb, pss_kb, most = report.read_text().split()
    return Run(elapsed, float(own), float(helpers), int(own_kb) / 1024,
               max(int(tree_kb), int(own_kb)) / 1024, int(pss_kb) / 1024, int(most),
               " ".join(first.split()))


def anchor(url: str) -> tuple[float, int]:
    """Seconds to COPY (executemany on SQLite) the build's rows into an empty copy of the table."""
    columns = ("edition_id", "subscriber_id", "status", "paper_ids", "reasons", "attempts",
               "next_attempt_at", "last_reply", "created_at")
    listed = ", ".join(columns)
    with raw_connection(url) as conn:
        if isinstance(conn, psycopg.Connection):
            conn.execute("CREATE TABLE anchor (LIKE deliveries INCLUDING ALL)")
            buffer = io.BytesIO()
            with conn.cursor().copy(f"COPY (SELECT {listed} FROM deliveries) TO STDOUT") as out:
                for block in out:
                    buffer.write(block)
            conn.commit()
            started = time.perf_counter()
            with conn.cursor().copy(f"COPY anchor ({listed}) FROM STDIN") as into:
                into.write(buffer.getvalue())
            conn.commit()
            elapsed = time.perf_counter() - started
            rows = conn.execute("SELECT count(*) FROM anchor").fetchone()[0]
            conn.execute("DROP TABLE anchor")
            return elapsed, rows
        schema = conn.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'deliveries'"
        ).fetchone()[0]
        conn.execute(schema.replace("deliveries", "anchor", 1))
        for index, in conn.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'deliveries' AND type = 'index' "
            "AND sql IS NOT NULL"
        ).fetchall():
            conn.execute(index.replace("ON deliveries", "ON anchor").replace(" ix_", " anchor_ix_"))
        rows = conn.execute(f"SELECT {listed} FROM deliveries").fetchall()
        started = time.perf_counter()
        conn.executemany(f"INSERT INTO anchor ({listed}) VALUES ({', '.join('?' * len(columns))})",
                         rows)
        conn.commit()
        return time.perf_counter() - started, len(rows)


def split(profile: Path) -> str:
    """Scoring (Matcher.prepare) against the rest of the build, from the child's cProfile."""
    stats = pstats.Stats(str(profile))
    entries: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = max(cumulative for (_, _, _, cumulative, _) in entries.values())

    def cumulative(name: str, module: str) -> float:
        return sum(
            value[3] for (path, _, function), value in entries.items()
            if function == name and path.endswith(module)
        )

    parts = {
        "building the matcher (Chooser.__init__)": cumulative("__init__", "editions/choosing.py"),
        "scoring (Matcher.prepare)": cumulative("prepare", "matching/selection.py"),
        "choosing from scores (Chooser.choose)": cumulative("choose", "editions/choosing.py"),
        "reading subscribers (due_chunks)": cumulative("due_chunks", "editions/readers.py"),
        "already given": cumulative("already_given", "editions/choosing.py"),
        "writing rows (write_rows)": cumulative("write_rows", "editions/rows.py"),
    }
    lines = [f"      {name:40} {seconds:7.2f} s  {seconds / total:6.1%}"
             for name, seconds in parts.items()]
    lines.append(f"      {'whole process, imports included':40} {total:7.2f} s")
    return "\n".join(lines)


def measure(kind: str, size: int, vocab: Sequence[str], tmp: Path, profile: bool) -> float:
    """Build one edition for ``size`` fresh subscribers; prints the figures, returns peak memory."""
    admin_url = os.environ.get("NEWSLETTER_TEST_POSTGRES_URL")
    with scratch_database(admin_url, tmp, f"newsletter_bench_{kind}_{size}") as url:
        now = datetime.now(UTC)
        started = time.perf_counter()
        with raw_connection(url) as conn:
            load_papers(conn, now)
            topics = load_subscribers(conn, size, kind, vocab, now)
        made = time.perf_counter() - started
        trace = tmp / "build.prof" if profile else None
        run = run_build(url, now.date().isoformat(), tmp, trace)
        floor, rows = anchor(url)
    goal = GOAL_SECONDS[kind]
    seconds = run.seconds
    projected = seconds * MILLION / size
    how = "measured" if size == MILLION else "projected linearly"
    print(f"{kind:7} {size:>9,} subscribers ({topics:,} topic rows, made in {made:.0f} s): "
          f"{run.summary}")
    print(f"    build {seconds:7.1f} s; at 1M ({how}) {projected:7.1f} s = "
          f"{projected / goal:5.2f}x the {goal:.0f} s goal{'  [under cProfile]' if trace else ''}")
    print(f"    CPU {run.cpu + run.helpers_cpu:7.1f} s: build process {run.cpu:.1f} s, its "
          f"{run.processes - 1} helper processes {run.helpers_cpu:.1f} s (the database's apart)")
    peak = run.tree_pss if run.processes > 1 else run.own_rss
    print(f"    peak memory {peak:6.0f} MB = {peak / GOAL_RSS_MB:5.2f}x the {GOAL_RSS_MB:.0f} MB "
          f"goal ({'PSS of all its processes' if run.processes > 1 else 'RSS'}; RSS: build "
          f"process {run.own_rss:.0f} MB, all processes summed {run.tree_rss:.0f} MB)")
    print(f"    anchor: bare COPY of the same {rows:,} rows {floor:6.2f} s; "
          f"build = {seconds / floor:5.1f}x the anchor")
    if trace is not None:
        print(split(trace))
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kind", choices=("free", "catalog", "both"), default="both")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--full", action="store_true", help="also 1,000,000 (the goal's size)")
    parser.add_argument("--profile", action="store_true", help="cProfile the smallest build")
    args = parser.parse_args()
    sizes = sorted(set(args.sizes) | ({MILLION} if args.full else set()))
    kinds = ("catalog", "free") if args.kind == "both" else (args.kind,)
    backend = "postgresql" if os.environ.get("NEWSLETTER_TEST_POSTGRES_URL") else "sqlite"
    chunk = os.environ.get("NEWSLETTER_EDITION_CHUNK_SIZE", "2500 (default)")
    print(f"{backend}, 272 candidate papers, chunk {chunk}; goals are for 1,000,000 subscribers")
    vocab = vocabulary(json.loads(PAPERS.read_text(encoding="utf-8")))
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            peaks = {
                size: measure(kind, size, vocab, Path(tmp), args.profile and size == sizes[0])
                for size in sizes
            }
            for small, large in pairwise(sizes):
                growth = peaks[large] / peaks[small]
                print(f"{kind:7} peak memory {small:,} -> {large:,}: {growth:4.2f}x = "
                      f"{growth / GOAL_GROWTH:4.2f}x the {GOAL_GROWTH}x goal (set for 100k -> 1M)")


if __name__ == "__main__":
    main()
