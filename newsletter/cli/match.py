"""``newsletter match``: what the matcher selects for each topic of a file, as JSON on stdout.

It builds one :class:`Matcher` and asks it for each topic's digest with no size cap, so the
evaluation measures exactly the threshold and ordering that real digests use.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import typer

from newsletter.config import load_settings
from newsletter.errors import NewsletterError


def match(
    papers: Path = typer.Option(..., "--papers", help="Papers JSON (list of title/abstract)."),
    topics: Path = typer.Option(..., "--topics", help='Topics JSON ({"topics": [...]}).'),
) -> None:
    """Print, per topic id, the papers that clear the relevance threshold, best first.

    A topic may list ``liked`` / ``disliked`` papers ({"title", "abstract", "authors"?,
    "age_days"?}): they steer it as a reader's verdicts steer their digests.
    """
    # Imported here: scikit-learn and SciPy take seconds to load, and every other command
    # (and `newsletter --help`) should not pay for them.
    from newsletter.matching.jsonfiles import load_papers, load_topics
    from newsletter.matching.per_topic import match_topics

    now = datetime.now(UTC)
    try:
        listed = load_papers(papers, now=now)
        named = load_topics(topics)
    except NewsletterError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    chosen = match_topics(
        listed,
        [(topic.id, topic.spec) for topic in named],
        now=now,
        semantic=load_settings().semantic_matching,
    )
    titles = {paper.id: paper.title for paper in listed}
    result = {
        topic_id: [
            {"title": titles[item.paper_id], "score": round(item.score, 4), "why": item.why}
            for item in items
        ]
        for topic_id, items in chosen.items()
    }
    json.dump(result, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
