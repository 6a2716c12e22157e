"""How well the matcher picks papers for judged topics, the way a reader meets them.

Run from the repository root: ``python bench/eval_matching.py [--topics T] [--papers P]
[--no-loto] [--semantic] [--save F] [--against F]``
(``make eval``). It goes through :func:`newsletter.matching.per_topic.select_per_topic`, the very
code ``newsletter match`` runs, with the matcher digests use. Four views, per topic and as macro
means over topics:

* **all**: all papers as one pool (the pool is its own background: 272 >= the sample's size).
* **day**: each ``seed`` page (one day's listing, 30-81 papers) as its own pool, with the
  background a real daily run has on a fresh install: no store, so the bundled sample
  (``newsletter/sources/sample/papers.json``) pads it; since the sample *is* these 272 papers,
  that is the other four days' papers (the day's own are dropped as duplicates). A topic's
  five daily selections are scored together (every false pick on any day counts); P@k is the
  mean over days with a relevant paper of precision of the day's top min(5, relevant).
* each **with** the topic's curated ``description`` and **without** it (label + keywords only).

Then the same two pools for **short** typed topics: the label and only its first keyword, "two
words and a keyword" as the issue that set the goals says people type, with the simulated reader
below; nothing is fitted on them, so they say how the matcher meets the briefest topics.

Under the macro means, their standard error over topics: how far each could move on another
draw of topics judged the same way, which is what the held-back topics are.

Then leave-one-topic-out (LOTO): every fitted constant is refitted on 14 topics (maximising mean F1
over the four views) and the held-out topic is scored with it. And the simulated reader: per topic,
day by day in ``seed`` order, the first 10 papers picked are judged by the labels and fed back as
liked / disliked examples; days 2-5 are scored with and without that feedback (the gain with the
standard error of its per-topic differences). Last, the relevance goals (from the issue that set
them) beside the figures measured, met or not.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newsletter.matching import Matcher  # noqa: E402
from newsletter.matching.jsonfiles import load_papers  # noqa: E402
from newsletter.matching.papers import PaperRecord, normalized_title  # noqa: E402
from newsletter.matching.per_topic import select_per_topic  # noqa: E402
from newsletter.matching.relevance import (  # noqa: E402
    Calibration,
    calibration_grid,
    feedback_grid,
)
from newsletter.preferences import Example, TopicSpec  # noqa: E402

NOW = datetime(2026, 3, 10, 7, tzinfo=UTC)
FEEDBACK_PER_DAY = 10


def _shared(name: str) -> Path:
    """``../shared`` beside the repository (a worktree may sit one level deeper)."""
    for base in (ROOT.parent, ROOT.parent.parent, Path("/work")):
        if (base / "shared" / name).exists():
            return base / "shared" / name
    return ROOT.parent / "shared" / name


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float
    p_at: float

    @staticmethod
    def mean(rows: Sequence[Scores]) -> Scores:
        n = max(len(rows), 1)
        return Scores(*(sum(getattr(r, f) for r in rows) / n for f in Scores.__dataclass_fields__))

    @staticmethod
    def standard_error(rows: Sequence[Scores]) -> Scores:
        """How far the macro mean would move with another draw of topics judged the same way
        (the held-back ones): the precision of each figure as a forecast for new topics."""
        fields = Scores.__dataclass_fields__
        return Scores(*(_standard_error([getattr(r, f) for r in rows]) for f in fields))


def _standard_error(values: Sequence[float]) -> float:
    """Standard error of the mean of ``values`` (per-topic figures, or per-topic differences)."""
    n = len(values)
    if n < 2:
        return 0.0
    mean = sum(values) / n
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1) / n)


def prf(selected: int, hits: int, relevant: int) -> tuple[float, float, float]:
    p = hits / selected if selected else 0.0
    r = hits / relevant if relevant else 0.0
    return p, r, (2 * p * r / (p + r) if hits else 0.0)


Picks = dict[str, list[str]]  # topic id -> normalized titles, best first


def score_days(
    days: Sequence[tuple[Picks, set[str]]], truth: dict[str, set[str]], topic: str
) -> Scores:
    """A topic's selections over several pools scored together (one pool is one "day")."""
    selected = hits = relevant = 0
    tops: list[float] = []
    for picks, pool in days:
        got = picks.get(topic, [])
        wanted = truth[topic] & pool
        selected += len(got)
        hits += sum(1 for t in got if t in wanted)
        relevant += len(wanted)
        if wanted:
            k = min(5, len(wanted))
            tops.append(sum(1 for t in got[:k] if t in wanted) / k)
    p, r, f1 = prf(selected, hits, relevant)
    return Scores(p, r, f1, sum(tops) / len(tops) if tops else 0.0)


@dataclass
class Setup:
    topics: list[tuple[str, TopicSpec]]
    truth: dict[str, set[str]]
    everything: list[PaperRecord]
    days: list[list[PaperRecord]]


def load(papers_path: Path, topics_path: Path) -> Setup:
    data = json.loads(topics_path.read_text(encoding="utf-8"))
    topics = [
        (
            raw["id"],
            TopicSpec.build(
                raw.get("label", ""),
                raw.get("keywords", []),
                raw.get("authors", []),
                raw.get("excluded", []),
                description=raw.get("description", ""),
            ),
        )
        for raw in data["topics"]
    ]
    truth = {tid: {normalized_title(t) for t in data["labels"].get(tid, [])} for tid, _ in topics}
    raw_papers = json.loads(papers_path.read_text(encoding="utf-8"))
    everything = load_papers(papers_path, now=NOW)
    by_title = {normalized_title(p.title): p for p in everything}
    seeds: dict[str, list[PaperRecord]] = {}
    for raw in raw_papers:
        paper = by_title[normalized_title(raw["title"])]
        day = seeds.setdefault(str(raw.get("seed", "")), [])
        if paper not in day:
            day.append(paper)
    return Setup(topics, truth, everything, [seeds[k] for k in sorted(seeds)])


def same(spec: TopicSpec) -> TopicSpec:
    """The topic as judged: label, keywords and curated description."""
    return spec


def plain(spec: TopicSpec) -> TopicSpec:
    """The topic as a person types it: label and keywords, no curated description."""
    return replace(spec, description="")


def short(spec: TopicSpec) -> TopicSpec:
    """The topic as a person types it briefly: the label and its first keyword only."""
    return replace(spec, description="", keywords=spec.keywords[:1])


Variant = Callable[[TopicSpec], TopicSpec]
# The views fitted on and scored against the goals: with description, and label + keywords.
FITTED: tuple[tuple[str, Variant], ...] = (("desc", same), ("plain", plain))
# How the simulated reader's lines name them.
SPOKEN = {"desc": "with description", "plain": "label + keywords"}


class Runner:
    """Matchers built once per pool; each evaluation asks them through the digest code path."""

    def __init__(self, setup: Setup, *, semantic: bool = False) -> None:
        self.setup = setup
        self.pools: list[list[PaperRecord]] = [setup.everything, *setup.days]
        self.matchers = [Matcher(pool, now=NOW, semantic=semantic) for pool in self.pools]

    def picks(self, matcher: Matcher, topics: list[tuple[str, TopicSpec]]) -> Picks:
        titles = {p.id: normalized_title(p.title) for p in matcher.papers}
        chosen = select_per_topic(matcher, topics)
        return {tid: [titles[item.paper_id] for item in items] for tid, items in chosen.items()}

    def views(
        self,
        adjust: Callable[[Matcher], Matcher] = lambda m: m,
        variants: Sequence[tuple[str, Variant]] = FITTED,
    ) -> dict[str, list[Scores]]:
        """Per-topic scores on all papers and per day, for each way of writing the topics."""
        out: dict[str, list[Scores]] = {}
        for name, variant in variants:
            topics = [(tid, variant(spec)) for tid, spec in self.setup.topics]
            matchers = [adjust(m) for m in self.matchers]
            results = [
                (self.picks(m, topics), {normalized_title(p.title) for p in m.papers})
                for m in matchers
            ]
            for view, chosen in (("all", results[:1]), ("day", results[1:])):
                out[f"{view}/{name}"] = [
                    score_days(chosen, self.setup.truth, tid) for tid, _ in self.setup.topics
                ]
        return out

    def reader(
        self, variant: Variant, adjust: Callable[[Matcher], Matcher] = lambda m: m
    ) -> tuple[list[Scores], list[Scores]]:
        """Days 2-5 per topic without and with the simulated reader's feedback."""
        setup = self.setup
        day_matchers = [adjust(m) for m in self.matchers[1:]]
        base = [(tid, variant(spec)) for tid, spec in setup.topics]
        liked: dict[str, list[Example]] = {tid: [] for tid, _ in base}
        disliked: dict[str, list[Example]] = {tid: [] for tid, _ in base}
        plain_days: list[tuple[Picks, set[str]]] = []
        fed_days: list[tuple[Picks, set[str]]] = []
        for n, matcher in enumerate(day_matchers):
            fed = [
                (tid, replace(spec, liked=tuple(liked[tid]), disliked=tuple(disliked[tid])))
                for tid, spec in base
            ]
            pool = {normalized_title(p.title) for p in matcher.papers}
            fed_picks = self.picks(matcher, fed)
            if n > 0:
                plain_days.append((self.picks(matcher, base), pool))
                fed_days.append((fed_picks, pool))
            by_title = {normalized_title(p.title): p for p in matcher.papers}
            for tid, _ in base:
                for title in fed_picks[tid][:FEEDBACK_PER_DAY]:
                    paper = by_title[title]
                    example = Example(paper.title, paper.abstract, tuple(paper.authors))
                    (liked if title in setup.truth[tid] else disliked)[tid].append(example)
        ids = [tid for tid, _ in base]
        return (
            [score_days(plain_days, setup.truth, tid) for tid in ids],
            [score_days(fed_days, setup.truth, tid) for tid in ids],
        )


VIEWS = ("all/desc", "all/plain", "day/desc", "day/plain")


def table(setup: Setup, views: dict[str, list[Scores]]) -> dict[str, Scores]:
    head = " | ".join(f"{v:^23}" for v in VIEWS)
    print(f"{'':28} | {head}")
    print(f"{'topic':28} | " + " | ".join(f"{'P':>5} {'R':>5} {'F1':>5} {'P@k':>5}" for _ in VIEWS))
    rows = [(tid, [views[v][i] for v in VIEWS]) for i, (tid, _) in enumerate(setup.topics)]
    macro = [Scores.mean(views[v]) for v in VIEWS]
    rows.append(("macro mean", macro))
    rows.append(("± standard error over topics", [Scores.standard_error(views[v]) for v in VIEWS]))
    for name, cells in rows:
        text = " | ".join(
            f"{s.precision:5.3f} {s.recall:5.3f} {s.f1:5.3f} {s.p_at:5.3f}" for s in cells
        )
        if name == "macro mean":
            print("-" * (31 + 26 * len(VIEWS)))
        print(f"{name[:28]:28} | {text}")
    return dict(zip(VIEWS, macro, strict=True))


def loto(runner: Runner, setup: Setup) -> dict[str, float]:
    """Refit every fitted constant without each topic in turn; score the held-out topic."""
    grid = calibration_grid()
    scored = [runner.views(partial(Matcher.recalibrated, calibration=c)) for c in grid]
    n = len(setup.topics)

    def objective(k: int, topics: list[int]) -> float:
        return sum(scored[k][v][i].f1 for v in VIEWS for i in topics) / (len(VIEWS) * len(topics))

    fitted_all = max(range(len(grid)), key=lambda k: objective(k, list(range(n))))
    held: dict[str, list[Scores]] = {v: [] for v in VIEWS}
    chosen: list[int] = []
    for i in range(n):
        rest = [j for j in range(n) if j != i]
        k = max(range(len(grid)), key=lambda k: objective(k, rest))
        chosen.append(k)
        for v in VIEWS:
            held[v].append(scored[k][v][i])
    print(f"\nLOTO over {len(grid)} candidate settings of the fitted constants:")
    print(f"  fitted on all: {grid[fitted_all].describe()}  (shipped: {Calibration().describe()})")
    picks = sorted({grid[k].describe() for k in chosen})
    print(f"  chosen per held-out topic: {', '.join(picks)}")
    print(f"{'':12} " + "  ".join(f"{v:>16}" for v in VIEWS))
    fitted = [Scores.mean(scored[fitted_all][v]) for v in VIEWS]
    out = [Scores.mean(held[v]) for v in VIEWS]
    print(f"{'fitted F1':12} " + "  ".join(f"{s.f1:16.3f}" for s in fitted))
    print(f"{'LOTO F1':12} " + "  ".join(f"{s.f1:16.3f}" for s in out))
    print(f"{'LOTO P@k':12} " + "  ".join(f"{s.p_at:16.3f}" for s in out))
    return {v: a.f1 - b.f1 for v, a, b in zip(VIEWS, fitted, out, strict=True)}


def reader(
    runner: Runner, setup: Setup, *, loto: bool
) -> tuple[dict[str, float], dict[str, list[Scores]]]:
    """The simulated reader with the shipped verdict weights, then refitted per held-out topic.

    Returns the gains, and per topic days 2-5 with feedback (for ``--save`` / ``--against``).
    """
    print("\nSimulated reader (days 2-5, F1 / P@k macro over topics):")
    runs = {name: runner.reader(variant) for name, variant in FITTED}
    fed_views = {f"reader/{name}": fed for name, (_, fed) in runs.items()}
    gains = {name: _gain(SPOKEN[name], without, fed) for name, (without, fed) in runs.items()}
    if not loto:
        return gains, fed_views
    grid = feedback_grid()
    weighted: list[dict[str, list[Scores]]] = []
    for c in grid:
        adjust = partial(Matcher.recalibrated, calibration=c)
        weighted.append({name: runner.reader(variant, adjust)[1] for name, variant in FITTED})
    n = len(setup.topics)

    def objective(k: int, topics: list[int]) -> float:
        return sum(weighted[k][v][i].f1 for v in runs for i in topics) / (2 * len(topics))

    fitted = max(range(len(grid)), key=lambda k: objective(k, list(range(n))))
    chosen = [
        max(range(len(grid)), key=lambda k: objective(k, [j for j in range(n) if j != i]))
        for i in range(n)
    ]
    print(f"  LOTO over {len(grid)} verdict weightings; fitted on all: {grid[fitted].describe()}")
    for v in runs:
        base = Scores.mean(runs[v][0]).f1
        held = sum(weighted[chosen[i]][v][i].f1 for i in range(n)) / n
        print(
            f"  {SPOKEN[v]:17}: fitted gain {Scores.mean(weighted[fitted][v]).f1 - base:+.3f}   "
            f"LOTO gain {held - base:+.3f}"
        )
    return gains, fed_views


def _gain(name: str, without: list[Scores], fed: list[Scores]) -> float:
    """Print one reader line (F1 / P@k without and with feedback, the gain ± its paired
    standard error) and return the gain."""
    a, b = Scores.mean(without), Scores.mean(fed)
    paired = _standard_error([y.f1 - x.f1 for x, y in zip(without, fed, strict=True)])
    print(
        f"  {name:17}: no feedback {a.f1:.3f} / {a.p_at:.3f}   "
        f"with feedback {b.f1:.3f} / {b.p_at:.3f}   gain {b.f1 - a.f1:+.3f} ± {paired:.3f}"
    )
    return b.f1 - a.f1


def brief(runner: Runner) -> dict[str, list[Scores]]:
    """Short typed topics (label + first keyword): both pools and the simulated reader, macro
    means with their standard error over topics. Nothing is fitted on them."""
    views = runner.views(variants=(("short", short),))
    print(
        '\nShort typed topics (label + first keyword: "two words and a keyword"; not fitted on),'
        " macro over topics:"
    )
    print(f"  {'':28} {'P':>5} {'R':>5} {'F1':>5} {'P@k':>5}")
    for view, label in (("all/short", "all papers"), ("day/short", "one day's papers")):
        for head, s in (
            (label, Scores.mean(views[view])),
            ("± standard error", Scores.standard_error(views[view])),
        ):
            print(f"  {head:28} {s.precision:5.3f} {s.recall:5.3f} {s.f1:5.3f} {s.p_at:5.3f}")
    without, fed = runner.reader(short)
    print("  simulated reader (days 2-5, F1 / P@k):")
    _gain("label + 1 keyword", without, fed)
    return {**views, "reader/short": fed}


def save(path: Path, setup: Setup, views: dict[str, list[Scores]]) -> None:
    """Per-topic figures of this run, for a later run's ``--against``."""
    out = {
        view: {tid: asdict(s) for (tid, _), s in zip(setup.topics, scores, strict=True)}
        for view, scores in views.items()
    }
    path.write_text(json.dumps(out, indent=1), encoding="utf-8")


def against(path: Path, setup: Setup, views: dict[str, list[Scores]]) -> None:
    """This run minus a saved one, topic by topic: a change is worth its mean difference only
    when that stands clear of the difference's standard error (two or more of them)."""
    before = json.loads(path.read_text(encoding="utf-8"))
    print(f"\nAgainst {path} (paired over the topics both runs judged; F1, then P@k):")
    ids = [tid for tid, _ in setup.topics]
    for view, scores in views.items():
        old = before.get(view, {})
        pairs = [(old[tid], s) for tid, s in zip(ids, scores, strict=True) if tid in old]
        if not pairs:
            continue
        line = []
        for field in ("f1", "p_at"):
            diffs = [getattr(new, field) - was[field] for was, new in pairs]
            up, down = sum(d > 0 for d in diffs), sum(d < 0 for d in diffs)
            mean = sum(diffs) / len(diffs)
            line.append(f"{mean:+.3f} ± {_standard_error(diffs):.3f} ({up} up, {down} down)")
        print(f"  {view:12} F1 {line[0]}   P@k {line[1]}")


def goals(macro: dict[str, Scores], gap: dict[str, float], gains: dict[str, float]) -> None:
    """The issue's "done when" figures beside what this run measured."""
    at_least = [
        ("all papers, with description: F1", macro["all/desc"].f1, 0.85),
        ("all papers, with description: P@k", macro["all/desc"].p_at, 0.95),
        ("all papers, label + keywords: F1", macro["all/plain"].f1, 0.78),
        ("one day's papers, with description: F1", macro["day/desc"].f1, 0.83),
        ("one day's papers, label + keywords: F1", macro["day/plain"].f1, 0.78),
        *((f"simulated reader, {name}: F1 gain", gain, 0.08) for name, gain in gains.items()),
    ]
    print("\nGoals:")
    for name, value, goal in at_least:
        verdict = "met" if value >= goal else "not met"
        print(f"  {name:40} {value:6.3f}  (at least {goal:.3f})  {verdict}")
    if gap:
        worst = max(gap.values())
        verdict = "met" if worst <= 0.03 else "not met"
        print(f"  {'LOTO F1 below fitted, worst view':40} {worst:6.3f}  (at most 0.030)  {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--papers", type=Path, default=_shared("data/papers.json"))
    parser.add_argument("--topics", type=Path, default=_shared("eval/dev_topics.json"))
    parser.add_argument("--no-loto", action="store_true", help="skip leave-one-topic-out")
    parser.add_argument(
        "--semantic",
        action="store_true",
        help="blend in the semantic extra's embeddings (about 20 s a pool to embed)",
    )
    parser.add_argument("--save", type=Path, help="write this run's per-topic figures (JSON)")
    parser.add_argument(
        "--against", type=Path, help="print this run minus one saved with --save, topic by topic"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    setup = load(args.papers, args.topics)
    runner = Runner(setup, semantic=args.semantic)
    print(
        f"{len(setup.topics)} topics over {len(setup.everything)} papers "
        f"({len(setup.days)} days of {', '.join(str(len(d)) for d in setup.days)}); "
        "desc = with description, plain = label + keywords; P@k = precision of top min(5, rel)"
    )
    views = runner.views()
    macro = table(setup, views)
    gap = {} if args.no_loto else loto(runner, setup)
    gains, fed = reader(runner, setup, loto=not args.no_loto)
    briefly = brief(runner)
    goals(macro, gap, gains)
    measured = {**views, **fed, **briefly}
    if args.save:
        save(args.save, setup, measured)
    if args.against:
        against(args.against, setup, measured)
    print(f"({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
