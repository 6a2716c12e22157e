"""A reader's verdicts on papers ("More like this", "Not for me"): record, undo, list, use.

One row per subscriber and paper, enforced by a unique constraint: recording again (the same
verdict, the other one, or from another topic) is one ``INSERT ... ON CONFLICT DO UPDATE``, so
a double click or two tabs cannot make two rows. Erasing a subscriber or a paper erases its
verdicts through ``ON DELETE CASCADE``.

Matching reads verdicts as :class:`newsletter.preferences.Example` values on each topic
(:func:`judged_papers` for a chunk of subscribers in one query, then
:func:`newsletter.store.subscribers.with_verdicts`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from newsletter.errors import InvalidInput
from newsletter.preferences import Example
from newsletter.sources.records import normalize_arxiv_id, title_key
from newsletter.store.idsets import among, is_dense
from newsletter.store.models import Delivery, Paper, PaperVerdict, Verdict

CHUNK = 500
# Weights are rounded so that verdicts given the same day weigh the same: equal topics then
# stay equal between subscribers and the matcher's per-topic caches keep being shared.
WEIGHT_DIGITS = 3
HF_HOSTS = ("huggingface.co", "www.huggingface.co", "hf.co")
MAX_REFERENCE = 500


@dataclass(frozen=True)
class Judged:
    """One verdict as matching takes it: for which topic (None: all), which way, on what."""

    paper_id: int
    topic: str | None
    verdict: Verdict
    example: Example


@dataclass(frozen=True)
class VerdictRow:
    """One verdict as the preferences page and the data export show it."""

    paper_id: int
    title: str
    url: str | None
    arxiv_id: str | None
    verdict: Verdict
    topic: str | None
    created_at: datetime


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def record_verdict(
    session: Session,
    subscriber_id: int,
    paper_id: int,
    verdict: Verdict,
    *,
    topic: str | None,
    now: datetime,
) -> None:
    """Say it once or ten times, the row is the same: the latest word wins, dated ``now``."""
    values = {
        "subscriber_id": subscriber_id,
        "paper_id": paper_id,
        "verdict": verdict,
        "topic": topic,
        "created_at": now,
    }
    insert: Any = (
        postgresql.insert(PaperVerdict)
        if session.get_bind().dialect.name == "postgresql"
        else sqlite.insert(PaperVerdict)
    )
    statement = insert.values(**values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["subscriber_id", "paper_id"],
            set_={
                "verdict": statement.excluded.verdict,
                "topic": statement.excluded.topic,
                "created_at": statement.excluded.created_at,
            },
        )
    )


def withdraw_verdict(session: Session, subscriber_id: int, paper_id: int) -> bool:
    """Undo: True if there was a verdict to remove (removing twice is harmless)."""
    result = session.execute(
        delete(PaperVerdict).where(
            PaperVerdict.subscriber_id == subscriber_id, PaperVerdict.paper_id == paper_id
        )
    )
    return bool(getattr(result, "rowcount", 0))


def verdict_on(session: Session, subscriber_id: int, paper_id: int) -> Verdict | None:
    found = session.scalar(
        select(PaperVerdict.verdict).where(
            PaperVerdict.subscriber_id == subscriber_id, PaperVerdict.paper_id == paper_id
        )
    )
    return found


def verdicts_of(session: Session, subscriber_id: int) -> list[VerdictRow]:
    """A subscriber's verdicts, newest first, with what the page needs to name each paper."""
    rows = session.execute(
        select(
            PaperVerdict.paper_id, Paper.title, Paper.url, Paper.arxiv_id, PaperVerdict.verdict,
            PaperVerdict.topic, PaperVerdict.created_at,
        )
        .join(Paper, Paper.id == PaperVerdict.paper_id)
        .where(PaperVerdict.subscriber_id == subscriber_id)
        .order_by(PaperVerdict.created_at.desc(), PaperVerdict.paper_id)
    )
    return [
        VerdictRow(r.paper_id, r.title, r.url, r.arxiv_id, r.verdict, r.topic,
                   _as_utc(r.created_at))
        for r in rows
    ]


def judged_papers(
    session: Session, subscriber_ids: Sequence[int], *, now: datetime
) -> dict[int, list[Judged]]:
    """Every verdict of these subscribers as examples weighted by age (``fade``) at ``now``.

    One query per chunk of subscribers, joined with the papers, so building an edition costs
    the same number of round trips whatever the number of verdicts.
    """
    # Imported here: ``newsletter.matching`` loads scikit-learn (over a second), which the web
    # pages that record verdicts must not pay for.
    from newsletter.matching.feedback import fade

    now = _as_utc(now)
    found: dict[int, list[Judged]] = {}
    ids = sorted(set(subscriber_ids))
    wanted = set(ids)
    # A build's chunk of consecutive ids is one range (``among``), not thousands of parameters.
    step = len(ids) if is_dense(ids) else CHUNK
    for start in range(0, len(ids), step or 1):
        rows = session.execute(
            select(
                PaperVerdict.subscriber_id, PaperVerdict.paper_id, PaperVerdict.verdict,
                PaperVerdict.topic, PaperVerdict.created_at, Paper.title, Paper.abstract,
                Paper.authors,
            )
            .join(Paper, Paper.id == PaperVerdict.paper_id)
            .where(among(PaperVerdict.subscriber_id, ids[start : start + step]))
            .order_by(PaperVerdict.subscriber_id, PaperVerdict.paper_id)
        )
        for row in rows:
            if row.subscriber_id not in wanted:
                continue
            age_days = (now - _as_utc(row.created_at)).total_seconds() / 86400
            example = Example(
                title=row.title,
                abstract=row.abstract or "",
                authors=tuple(row.authors or ()),
                weight=round(fade(age_days), WEIGHT_DIGITS),
            )
            found.setdefault(row.subscriber_id, []).append(
                Judged(row.paper_id, row.topic, row.verdict, example)
            )
    return found


def topic_given_for(session: Session, subscriber_id: int, paper_id: int) -> str | None:
    """The topic label under which the paper was last sent to this subscriber, if known.

    A "More like this" link names only the subscriber and the paper (so one signature serves
    every topic); the topic comes from the digest that carried the paper.
    """
    rows = session.execute(
        select(Delivery.paper_ids, Delivery.reasons)
        .where(Delivery.subscriber_id == subscriber_id)
        .order_by(Delivery.created_at.desc(), Delivery.id.desc())
        .limit(200)
    )
    for paper_ids, reasons in rows:
        ids = list(paper_ids or ())
        if paper_id in ids:
            topics = list((reasons or {}).get("topics") or ())
            index = ids.index(paper_id)
            label = topics[index] if index < len(topics) else None
            return str(label) if label else None
    return None


def _hf_paper_id(reference: str) -> str | None:
    """``https://huggingface.co/papers/2401.12345`` -> ``2401.12345``."""
    parts = urlsplit(reference)
    if parts.scheme not in ("http", "https") or parts.hostname not in HF_HOSTS:
        return None
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) >= 2 and segments[0] == "papers":
        return normalize_arxiv_id(segments[1])
    return None


def find_paper(session: Session, reference: str) -> Paper | None:
    """A stored paper named by arXiv id (or abs/pdf URL), Hugging Face paper URL, or title."""
    text = " ".join(reference.split())
    if not text:
        return None
    if len(text) > MAX_REFERENCE:
        raise InvalidInput(f"a paper reference must be at most {MAX_REFERENCE} characters",
                           where="examples")
    arxiv_id = _hf_paper_id(text) or normalize_arxiv_id(text)
    if arxiv_id is not None:
        return session.scalar(
            select(Paper)
            .where(or_(Paper.arxiv_id == arxiv_id, Paper.source_id == arxiv_id))
            .order_by(Paper.id)
            .limit(1)
        )
    return session.scalar(
        select(Paper)
        .where(or_(Paper.source_id == title_key(text),
                   func.lower(Paper.title) == text.casefold()))
        .order_by(Paper.id)
        .limit(1)
    )
