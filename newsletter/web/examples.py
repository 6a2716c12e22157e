"""The preferences page's part on rated papers: list them, remove one, add "papers like these".

Example papers are named one per line by arXiv id, arXiv or Hugging Face paper URL, or exact
title, and must be papers the store already knows. They are recorded as "More like this"
verdicts, for one topic or (no topic) for all of the subscriber's topics; what is found is
added, what is not is named line by line and handed back to the form, so nothing typed is lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from newsletter.errors import InvalidInput
from newsletter.store.database import Database
from newsletter.store.models import Subscriber, Verdict
from newsletter.store.verdicts import (
    VerdictRow,
    find_paper,
    record_verdict,
    verdicts_of,
    withdraw_verdict,
)

MAX_EXAMPLES = 20
EXAMPLES_FIELD = "examples"
TOPIC_FIELD = "example_topic"


@dataclass
class ExamplesForm:
    """What the reader typed, and what came of it."""

    text: str = ""
    topic: str = ""
    added: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Rated:
    liked: list[VerdictRow]
    disliked: list[VerdictRow]


def rated_papers(db: Database, subscriber_id: int) -> Rated:
    with db.session() as session:
        rows = verdicts_of(session, subscriber_id)
    return Rated(
        [r for r in rows if r.verdict is Verdict.LIKE],
        [r for r in rows if r.verdict is Verdict.DISLIKE],
    )


def remove_rating(db: Database, subscriber_id: int, paper_id: int) -> bool:
    with db.session() as session:
        return withdraw_verdict(session, subscriber_id, paper_id)


def _entries(text: str) -> list[tuple[int, str]]:
    """(line number, entry) for each non-blank line."""
    return [(n, " ".join(line.split())) for n, line in enumerate(text.splitlines(), 1)
            if line.strip()]


def add_examples(
    db: Database, subscriber: Subscriber, form: ExamplesForm, *, now: datetime
) -> ExamplesForm:
    """Record each found paper as liked; the result keeps only the lines not found."""
    labels = [topic.label for topic in subscriber.topics]
    topic = form.topic or None
    if topic is not None and topic not in labels:
        return ExamplesForm(form.text, "", errors={
            TOPIC_FIELD: "Pick one of your topics, or “All my topics”."})
    entries = _entries(form.text)
    if not entries:
        return ExamplesForm("", form.topic, errors={
            EXAMPLES_FIELD: "Type at least one arXiv id, paper link or title."})
    if len(entries) > MAX_EXAMPLES:
        return ExamplesForm(form.text, form.topic, errors={
            EXAMPLES_FIELD: f"Add at most {MAX_EXAMPLES} papers at a time."})
    added: list[str] = []
    missing: list[tuple[int, str]] = []
    with db.session() as session:
        for line, entry in entries:
            try:
                paper = find_paper(session, entry)
            except InvalidInput as exc:
                missing.append((line, f"{exc}"))
                continue
            if paper is None:
                missing.append((line, entry))
                continue
            record_verdict(session, subscriber.id, paper.id, Verdict.LIKE, topic=topic, now=now)
            added.append(" ".join(paper.title.split()))
    result = ExamplesForm("\n".join(entry for _, entry in missing), form.topic, added)
    if missing:
        result.errors[EXAMPLES_FIELD] = not_found_message(missing)
    return result


def not_found_message(missing: Sequence[tuple[int, str]]) -> str:
    named = "; ".join(f"line {line}: “{_short(entry)}”" for line, entry in missing)
    return (
        f"Not found among the papers we know: {named}. Check the arXiv id or the exact title "
        "(only papers that appeared in our listings can be used), then add again."
    )


def _short(entry: str, limit: int = 80) -> str:
    return entry if len(entry) <= limit else entry[: limit - 1] + "…"
