"""Precision, recall, F1 and precision@5 of ``newsletter match`` on a judged topics file.

Run from the repository root: ``python bench/eval_matching.py [--papers P] [--topics T]``.
It runs the installed ``newsletter match`` command in a subprocess, so it measures the shipped
code path exactly as an operator would run it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from newsletter.matching.papers import normalized_title

ROOT = Path(__file__).resolve().parent.parent
NEWSLETTER = Path(sys.executable).with_name("newsletter")


def run_match(papers: Path, topics: Path) -> dict[str, list[dict[str, object]]]:
    command = [str(NEWSLETTER), "match", "--papers", str(papers), "--topics", str(topics)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"newsletter match failed ({result.returncode}): {result.stderr}")
    selected: dict[str, list[dict[str, object]]] = json.loads(result.stdout)
    return selected


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--papers", type=Path, default=ROOT.parent / "shared/data/papers.json")
    parser.add_argument("--topics", type=Path, default=ROOT.parent / "shared/eval/dev_topics.json")
    parser.add_argument("--verbose", "-v", action="store_true", help="list misses and extras")
    parser.add_argument(
        "--semantic", action="store_true", help="blend in sentence embeddings (needs the extra)"
    )
    args = parser.parse_args()
    if args.semantic:
        os.environ["NEWSLETTER_SEMANTIC_MATCHING"] = "on"
    labels: dict[str, list[str]] = json.loads(args.topics.read_text())["labels"]
    started = time.perf_counter()
    selected = run_match(args.papers, args.topics)
    elapsed = time.perf_counter() - started
    rows: list[tuple[str, float, float, float, float, int, int]] = []
    for topic_id, items in selected.items():
        truth = {normalized_title(t) for t in labels.get(topic_id, [])}
        got = [normalized_title(str(item["title"])) for item in items]
        hits = sum(1 for t in got if t in truth)
        precision = hits / len(got) if got else 0.0
        recall = hits / len(truth) if truth else 0.0
        f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
        top = got[:5]
        p_at_5 = sum(1 for t in top if t in truth) / 5
        rows.append((topic_id, precision, recall, f1, p_at_5, len(got), len(truth)))
        if args.verbose:
            for item in items:
                mark = "+" if normalized_title(str(item["title"])) in truth else "-"
                print(f"  {mark} {item['score']:.3f} {str(item['title'])[:70]}  [{item['why']}]")
            for title in sorted(truth - set(got)):
                print(f"  MISSED {title[:80]}")
    print(f"{'topic':28} {'P':>6} {'R':>6} {'F1':>6} {'P@5':>6} {'sel':>4} {'rel':>4}")
    for topic_id, p, r, f1, p5, n_sel, n_rel in rows:
        print(f"{topic_id:28} {p:6.3f} {r:6.3f} {f1:6.3f} {p5:6.3f} {n_sel:4d} {n_rel:4d}")
    means = [sum(row[i] for row in rows) / len(rows) for i in range(1, 5)] if rows else [0.0] * 4
    print(f"{'macro mean':28} {means[0]:6.3f} {means[1]:6.3f} {means[2]:6.3f} {means[3]:6.3f}")
    print(f"({len(rows)} topics, match ran in {elapsed:.2f}s)")


if __name__ == "__main__":
    main()
