"""Matching at scale: 100,000 subscribers over 1,000 distinct topic sets against 500 new papers.

Not a test: prints figures. Run from the repository root on one core:

    python bench/bench_matching.py [--papers ../shared/data/papers.json] [--subscribers 100000]

Then an edition-scale batch: thousands of distinct typed topics judged in one
``Matcher.prepare`` call (matrix products), with the cost per topic.

Subscribers are streamed from a generator and each digest is dropped once counted, as a sender
would, so memory must not grow with their number: the run is repeated under tracemalloc for a
tenth of the subscribers and for all of them, and the two peaks are printed side by side.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import gc
import random
import re
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newsletter.matching import Interest, Matcher, PaperRecord  # noqa: E402
from newsletter.matching.catalog import CATALOG  # noqa: E402
from newsletter.matching.jsonfiles import load_papers  # noqa: E402
from newsletter.matching.text import is_content, words  # noqa: E402
from newsletter.preferences import TopicSpec  # noqa: E402

NOW = datetime(2026, 3, 10, 7, tzinfo=UTC)
PREFIXES = ("Revisiting", "Towards", "Scaling", "On", "Rethinking", "Efficient")


def new_papers(path: Path, count: int, rng: random.Random) -> list[PaperRecord]:
    """The shared papers, then variants of them (new title prefix, shuffled sentences)."""
    base = load_papers(path, now=NOW)
    out: list[PaperRecord] = []
    for n in range(count):
        paper = base[n % len(base)]
        title, abstract = paper.title, paper.abstract
        if n >= len(base):
            title = f"{PREFIXES[n % len(PREFIXES)]} {title} ({n // len(base)})"
            sentences = re.split(r"(?<=\.)\s+", abstract)
            rng.shuffle(sentences)
            abstract = " ".join(sentences)
        featured = (NOW - timedelta(days=rng.randint(0, 6))).date()
        out.append(PaperRecord(n, title, abstract, (), rng.randint(0, 200), None, featured))
    return out


def topic_pool(papers: Sequence[PaperRecord], rng: random.Random, size: int) -> list[TopicSpec]:
    """Catalog topics plus topics made of frequent title phrases, as people might type them."""
    phrases: Counter[str] = Counter()
    for paper in papers:
        content = [w for w in words(paper.title) if is_content(w) and not w.isdigit()]
        phrases.update(" ".join(pair) for pair in pairwise(content))
        phrases.update(content)
    common = [p for p, n in phrases.most_common(4 * size) if n >= 2]
    topics = [topic.spec for topic in CATALOG]
    while len(topics) < size:
        label, *keywords = rng.sample(common, rng.randint(1, 4))
        topics.append(TopicSpec.build(label, keywords))
    return topics


def topic_sets(topics: Sequence[TopicSpec], rng: random.Random, count: int) -> list[Interest]:
    seen: set[tuple[TopicSpec, ...]] = set()
    while len(seen) < count:
        seen.add(tuple(rng.sample(list(topics), rng.randint(1, 4))))
    return [Interest(topics=chosen) for chosen in sorted(seen, key=str)]


def subscribers(
    sets: Sequence[Interest], papers: Sequence[PaperRecord], count: int, seed: int
) -> Iterator[Interest]:
    """A generator: no list of 100,000 subscribers ever exists."""
    rng = random.Random(seed)
    ids = [paper.id for paper in papers]
    for n in range(count):
        chosen = sets[rng.randrange(len(sets))]
        start = rng.randrange(len(ids))
        sent = frozenset(ids[start : start + n % 6])  # up to five papers already received
        yield Interest(chosen.topics, size=5 + n % 11, exclude_ids=sent)


def run(
    papers: Sequence[PaperRecord], sets: Sequence[Interest], count: int
) -> tuple[float, float, int, int]:
    started = time.perf_counter()
    matcher = Matcher(papers, now=NOW)
    built = time.perf_counter()
    items = empty = 0
    for interest in subscribers(sets, papers, count, seed=7):
        digest = matcher.select(interest)
        items += len(digest)
        empty += not digest
    return built - started, time.perf_counter() - built, items, empty


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    # ../shared beside the repository (a worktree sits one level deeper).
    shared = next(
        (b / "shared" for b in (ROOT.parent, ROOT.parent.parent) if (b / "shared").exists()),
        ROOT.parent / "shared",
    )
    parser.add_argument("--papers", type=Path, default=shared / "data/papers.json")
    parser.add_argument("--new-papers", type=int, default=500)
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--topic-sets", type=int, default=1_000)
    parser.add_argument("--distinct-topics", type=int, default=300)
    parser.add_argument("--batch-topics", type=int, default=5_000)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    rng = random.Random(42)
    papers = new_papers(args.papers, args.new_papers, rng)
    topics = topic_pool(papers, rng, args.distinct_topics)
    sets = topic_sets(topics, rng, args.topic_sets)
    n_distinct = len({t for s in sets for t in s.topics})
    print(
        f"{len(papers)} new papers, {args.subscribers:,} subscribers, {len(sets):,} topic sets "
        f"over {n_distinct} distinct topics, one core"
    )
    build, select, items, empty = run(papers, sets, args.subscribers)
    total = build + select
    print(f"  matcher built (corpus statistics): {build:6.2f} s")
    print(f"  all digests (topics scored once): {select:6.2f} s")
    print(f"  total                           : {total:6.2f} s  (budget 10 s)")
    print(f"  {items:,} digest items, {empty:,} empty digests")
    many = topic_pool(papers, random.Random(5), args.batch_topics)
    matcher = Matcher(papers, now=NOW)
    started = time.perf_counter()
    matcher.prepare(many)
    batched = time.perf_counter() - started
    per_topic = batched / max(len(set(many)), 1)
    print(
        f"  {len(set(many)):,} distinct typed topics judged in one prepare(): {batched:6.2f} s "
        f"= {per_topic * 1e3:.3f} ms per topic ({per_topic / (build / 500):.2f}x the build "
        "cost per paper)"
    )
    for count in (args.subscribers // 10, args.subscribers):
        gc.collect()
        tracemalloc.start()
        run(papers, sets, count)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"  tracemalloc peak, {count:>7,} subscribers: {peak / 2**20:7.1f} MiB")


if __name__ == "__main__":
    main()
