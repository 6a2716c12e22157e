"""How far the matcher's own scores could go on the dev topics: bounds, not figures to tune.

Run from the repository root: ``python bench/eval_bounds.py [--semantic]`` (about 40 s; with
``--semantic``, the blend with the semantic extra's embeddings, about 70 s). On all papers as
one pool, per way of writing the topic (with the description, label + keywords, and the short
label + first keyword of ``make eval``), macro over topics:

* **shipped cut**: F1 at the shipped cut (``Z_CUT``), read off the same z-scores (without the
  title and author overrides, so slightly below ``make eval``);
* **best cut**: the single cut best for all topics together, in hindsight;
* **per-topic cut**: each topic's best cut in hindsight: what any calibration of these scores
  could reach; ``make eval``'s goals above it need a better ranking, not a better cut;
* **AP**: mean average precision of the ranking itself.

Then an oracle reader: for each of days 2-5, every paper of the *other* days is judged (liked if
relevant, disliked if the matcher selected it and it is not), far more than the simulated reader
of ``make eval`` ever sees, and fed to the shipped verdict weights. Its gain over the same days
without feedback bounds what verdicts can add through this model.

Last, whether *any* learner could do better with those labels: per topic and for each of days 2-5,
every paper of the other days labelled, (a) the cut that topic's labels favour there, used on the
day, and (b) a logistic regression over the papers' TF-IDF vectors and the matcher's own score,
trained on the other days, added to the score (standardised) for the day's ranking. If neither
beats the shipped score by much, a topic's labels do not carry over from one day's papers to the
next on this data, and no reader's verdicts can lift days 2-5 far.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from eval_matching import (  # noqa: E402
    Runner,
    Setup,
    Variant,
    _shared,
    load,
    plain,
    same,
    score_days,
    short,
)

from newsletter.matching.papers import normalized_title  # noqa: E402
from newsletter.matching.relevance import Z_CUT, Calibration  # noqa: E402
from newsletter.preferences import Example  # noqa: E402


def f1(selected: np.ndarray, relevant: np.ndarray) -> float:
    hits = int((selected & relevant).sum())
    return 0.0 if hits == 0 else 2 * hits / int(selected.sum() + relevant.sum())


# Every way of writing a topic that ``make eval`` measures.
WAYS: tuple[tuple[str, Variant], ...] = (("desc", same), ("plain", plain), ("short", short))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--semantic", action="store_true", help="bounds of the blend with the semantic extra"
    )
    args = parser.parse_args()
    setup = load(_shared("data/papers.json"), _shared("eval/dev_topics.json"))
    runner = Runner(setup, semantic=args.semantic)
    matcher = runner.matchers[0]
    titles = [normalized_title(p.title) for p in matcher.papers]
    truth = np.array([[t in setup.truth[tid] for tid, _ in setup.topics] for t in titles])
    model = matcher.model.recalibrated(Calibration(cut=0.0))  # relevance = logistic(z)
    scores: dict[str, np.ndarray] = {}
    print(f"{'view':6} {'shipped cut':>11} {'best cut':>9} {'per-topic cut':>14} {'AP':>6}")
    for name, variant in WAYS:
        relevance = model.judge_many([variant(s) for _, s in setup.topics]).relevance
        z = np.log(np.clip(relevance, 1e-12, 1) / np.clip(1 - relevance, 1e-12, 1))
        topics = range(z.shape[1])
        cuts = np.linspace(0.5, 3.0, 51)
        best = max(np.mean([f1(z[:, j] >= c, truth[:, j]) for j in topics]) for c in cuts)
        oracle = np.mean([max(f1(z[:, j] >= c, truth[:, j]) for c in np.unique(z[:, j]))
                          for j in topics])
        ap = np.mean([average_precision_score(truth[:, j], z[:, j]) for j in topics])
        shipped = np.mean([f1(z[:, j] >= Z_CUT, truth[:, j]) for j in topics])
        print(f"{name:6} {shipped:11.3f} {best:9.3f} {oracle:14.3f} {ap:6.3f}")
        scores[name] = z
    oracle_reader(runner, setup)
    day_of = {normalized_title(p.title): d for d, day in enumerate(setup.days) for p in day}
    days = np.array([day_of[t] for t in titles])
    features = model.matrix[: len(titles)]  # the pool is the whole sample: its own background
    print(
        "\nLearned per topic from every other day's labels (days 2-5; without the title and "
        "author overrides):"
    )
    print(f"{'view':6} {'F1 shipped cut':>14} {'F1 own cut':>11} {'AP':>6} {'AP + regression':>16}")
    for name, z in scores.items():
        shipped_f1, own_f1, ap_alone, ap_mixed = learned(z, truth, days, features)
        print(f"{name:6} {shipped_f1:14.3f} {own_f1:11.3f} {ap_alone:6.3f} {ap_mixed:16.3f}")


def learned(
    z: np.ndarray, truth: np.ndarray, days: np.ndarray, features: sp.csr_matrix
) -> tuple[float, float, float, float]:
    """Macro F1 at the shipped cut and at each topic's cut learned on the other days, and mean
    AP of the score alone and plus a regression trained on the other days (days 2-5 pooled)."""
    cuts = np.linspace(0.5, 3.0, 51)
    later = days >= 1
    f1_shipped, f1_own, ap_own, ap_mixed = [], [], [], []
    for j in range(z.shape[1]):
        chosen = np.zeros(len(z), dtype=bool)
        mixed = np.zeros(len(z))
        x = sp.hstack([features, sp.csr_matrix(z[:, j : j + 1])]).tocsr()
        for d in range(1, days.max() + 1):
            here, rest = days == d, days != d
            y = truth[rest, j]
            cut = max(cuts, key=lambda c: f1(z[rest, j] >= c, y))
            chosen[here] = z[here, j] >= cut
            fitted = LogisticRegression(max_iter=2000, class_weight="balanced").fit(x[rest], y)
            push = fitted.decision_function(x)
            mixed[here] = z[here, j] + ((push - push.mean()) / push.std())[here]
        wanted = truth[later, j]
        f1_shipped.append(f1(z[later, j] >= Z_CUT, wanted))
        f1_own.append(f1(chosen[later], wanted))
        ap_own.append(average_precision_score(wanted, z[later, j]))
        ap_mixed.append(average_precision_score(wanted, mixed[later]))
    return (
        float(np.mean(f1_shipped)),
        float(np.mean(f1_own)),
        float(np.mean(ap_own)),
        float(np.mean(ap_mixed)),
    )


def oracle_reader(runner: Runner, setup: Setup) -> None:
    """Every paper of the other days judged and fed to the shipped verdict weights."""
    print("\nOracle reader (days 2-5; every paper of the other days judged), macro F1:")
    days = runner.matchers[1:]
    for name, variant in WAYS:
        base = [(tid, variant(spec)) for tid, spec in setup.topics]
        picked = [runner.picks(m, base) for m in days]
        unfed, fed = [], []
        for d in range(1, len(days)):
            pool = {normalized_title(p.title) for p in days[d].papers}
            topics = []
            for tid, spec in base:
                liked, disliked = [], []
                for e in range(len(days)):
                    if e == d:
                        continue
                    for paper in days[e].papers:
                        title = normalized_title(paper.title)
                        example = Example(paper.title, paper.abstract, tuple(paper.authors))
                        if title in setup.truth[tid]:
                            liked.append(example)
                        elif title in picked[e][tid]:
                            disliked.append(example)
                topics.append((tid, replace(spec, liked=tuple(liked), disliked=tuple(disliked))))
            unfed.append((picked[d], pool))
            fed.append((runner.picks(days[d], topics), pool))
        a = np.mean([score_days(unfed, setup.truth, tid).f1 for tid, _ in base])
        b = np.mean([score_days(fed, setup.truth, tid).f1 for tid, _ in base])
        print(f"  {name:6}: no feedback {a:.3f}, with feedback {b:.3f}, gain {b - a:+.3f}")


if __name__ == "__main__":
    main()
