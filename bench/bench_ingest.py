"""Ingest benchmark: seconds per 10,000 papers and peak memory, 10k vs 50k papers.

Generates JSON Lines files of variations of the bundled sample, ingests each into a fresh SQLite
database (and PostgreSQL when NEWSLETTER_TEST_POSTGRES_URL is set: the benchmark creates and drops
its own database), then ingests it again (everything unchanged). Timings come from a run without
tracing; peak memory from a second run under tracemalloc, so tracing does not skew the times.
Similar peaks for 10k and 50k show that memory does not grow with the file.

    .venv/bin/python bench/bench_ingest.py [--sizes 10000 50000]
    .venv/bin/python bench/bench_ingest.py --authors [50000 500000]   # the author check only
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path

from newsletter.sources.configured import sample_path
from newsletter.sources.files import FileSource
from newsletter.sources.runner import run_source
from newsletter.store.database import Database
from newsletter.store.scratch import scratch_database

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def write_papers(path: Path, count: int) -> None:
    sample = json.loads(sample_path().read_text(encoding="utf-8"))
    rng = random.Random(count)
    with path.open("w", encoding="utf-8") as out:
        for n in range(count):
            paper = dict(sample[n % len(sample)])
            paper.pop("seed", None)
            paper["title"] = f"{paper['title']} (variant {n // len(sample)})"
            paper["upvotes"] = rng.randint(0, 500)
            if n % 3 == 0:
                paper["arxiv_id"] = f"{24 + n % 2}{n % 12 + 1:02d}.{n:05d}"
            out.write(json.dumps(paper) + "\n")


def ingest(url: str, path: Path, *, traced: bool) -> tuple[float, float, str]:
    """Seconds and peak MiB (0 when not traced) of one run, and its summary."""
    db = Database(url)
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    report = run_source(FileSource(path, now=NOW), db, now=NOW)
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 2**20 if traced else 0.0
    if traced:
        tracemalloc.stop()
    db.dispose()
    assert report.error is None, report.error
    return seconds, peak, report.summary()


def databases(folder: Path) -> list[tuple[str, Callable[[], AbstractContextManager[str]]]]:
    found: list[tuple[str, Callable[[], AbstractContextManager[str]]]] = [
        ("sqlite", lambda: scratch_database(None, folder, f"bench_{uuid.uuid4().hex[:6]}"))
    ]
    admin_url = os.environ.get("NEWSLETTER_TEST_POSTGRES_URL")
    if admin_url:
        found.append(
            ("postgresql", lambda: scratch_database(admin_url, folder, "newsletter_bench_ingest"))
        )
    return found


def author_checks(sizes: list[int]) -> None:
    """The per-paper author check on lists of growing length, of which at most 2,000 names are
    distinct (so none is refused), then one of all-distinct names (refused). Seconds per name
    should stay flat (linear time); the anchor is a list of exactly 2,000 names."""
    from newsletter.errors import BadItem
    from newsletter.sources.checks import MAX_LIST, names_field

    def timed(names: list[str]) -> float:
        start = time.perf_counter()
        with contextlib.suppress(BadItem):  # refused past MAX_LIST distinct names: the point
            names_field(names, "authors")
        return time.perf_counter() - start

    distinct = [f"Author Number {n}" for n in range(MAX_LIST)]
    anchor = timed(distinct) / MAX_LIST
    print(f"author check: {MAX_LIST:,} names, {anchor * 1e6:.2f} us per name (anchor)")
    for count in sizes:
        repeated = (distinct * (count // MAX_LIST + 1))[:count]
        per = timed(repeated) / count
        print(f"author check: {count:,} names ({MAX_LIST:,} distinct), {per * 1e6:.2f} us per name,"
              f" {per / anchor:.2f}x the anchor")
        took = timed([f"Author Number {n}" for n in range(count)])
        print(f"author check: {count:,} distinct names (refused), {took * 1e3:.1f} ms in all")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument(
        "--authors", type=int, nargs="*", help="only time the author check on lists this long"
    )
    args = parser.parse_args()
    if args.authors is not None:
        author_checks(args.authors or [50_000, 500_000])
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = {}
        for count in args.sizes:
            files[count] = folder / f"papers-{count}.jsonl"
            write_papers(files[count], count)
        print(f"{'backend':>10} {'papers':>7} {'first run':>20} {'second run':>20} {'peak MiB':>9}")
        for backend, fresh in databases(folder):
            for count, path in files.items():
                with fresh() as url:
                    first, _, summary = ingest(url, path, traced=False)
                    again, _, again_summary = ingest(url, path, traced=False)
                with fresh() as url:
                    _, peak, _ = ingest(url, path, traced=True)
                per_first, per_again = first / count * 1e4, again / count * 1e4
                print(
                    f"{backend:>10} {count:>7} {first:7.2f} s ({per_first:5.2f}/10k)"
                    f" {again:7.2f} s ({per_again:5.2f}/10k) {peak:9.1f}"
                )
                print(f"{'':>18} first: {summary}; second: {again_summary}")


if __name__ == "__main__":
    main()
