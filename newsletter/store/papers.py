"""Storing paper records: one row per paper, however many sources and runs list it.

A row is keyed by ``source_id`` (the versionless arXiv id when known). Listings are merged, never
overwritten: the highest upvote, comment and star counts and the latest featured day win, missing
fields are filled, categories and sources are unioned. A run that brings nothing new writes
nothing, so ``updated_at`` only moves when a value really changed. Work is done in batches: one
``SELECT ... WHERE source_id IN (...)``, then one bulk INSERT and one bulk UPDATE, the same on
SQLite and PostgreSQL.

A :class:`Revision` (a new version announced by arXiv) is the one case where values are replaced
rather than filled: its title, abstract and authors are the paper's current ones. It only ever
updates a paper we already have; an unknown one is counted as replaced and left out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, RowMapping, and_, bindparam, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from newsletter.clock import as_utc
from newsletter.sources.records import ListedPaper, Revision, Skipped
from newsletter.store.database import Database
from newsletter.store.models import Paper

_When = TypeVar("_When", date, datetime)
BATCH_SIZE = 500
MAX_REASONS = 200  # skipped items kept with their reason; the rest are only counted
_FILLED: tuple[str, ...] = ("arxiv_id", "title", "abstract", "url", "pdf_url", "github_url")
_FILLED += ("project_url", "thumbnail_url", "ai_summary", "authors", "ai_keywords")
_UNIONED = ("categories", "sources")
_REVISED = ("title", "abstract", "authors")
MERGED: tuple[str, ...] = (*_FILLED, *_UNIONED, "github_stars", "upvotes", "comments")
MERGED += ("published_at", "featured_on", "announced_on")

_TABLE = Paper.metadata.tables["papers"]
_UPDATE = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("row_id"))
    .values({name: bindparam(name) for name in (*MERGED, "updated_at")})
)


@dataclass
class UpsertCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    replaced: int = 0  # new versions announced
    revised: int = 0  # ... of papers stored here, whose title, abstract or authors changed
    reasons: list[Skipped] = field(default_factory=list)

    def skip(self, item: Skipped) -> None:
        self.skipped += 1
        if len(self.reasons) < MAX_REASONS:
            self.reasons.append(item)

    def add(self, other: UpsertCounts) -> None:
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.replaced += other.replaced
        self.revised += other.revised
        for item in other.reasons:
            self.skip(item)
        self.skipped += other.skipped - len(other.reasons)


def _union(old: Sequence[str], new: Iterable[str]) -> list[str]:
    merged = list(old)
    merged.extend(value for value in new if value not in merged)
    return merged


def _latest(a: date | None, b: date | None) -> date | None:
    return max(a, b) if a and b else a or b


def _earliest(a: _When | None, b: _When | None) -> _When | None:
    return min(a, b) if a and b else a or b


def record_values(record: ListedPaper) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(record, name) for name in MERGED if name != "sources"}
    for name in ("authors", "ai_keywords", "categories"):
        values[name] = list(values[name])
    values["sources"] = [record.source]
    return values


def merge_values(current: Mapping[str, Any], record: ListedPaper) -> dict[str, Any]:
    """``current`` (a stored row or an earlier listing) completed by ``record``."""
    new = record_values(record)
    merged = dict(current)
    for name in _FILLED:
        merged[name] = current[name] or new[name]
    for name in _UNIONED:
        merged[name] = _union(current[name], new[name])
    for name in ("upvotes", "comments"):
        merged[name] = max(current[name], new[name])
    stars = [s for s in (current["github_stars"], new["github_stars"]) if s is not None]
    merged["github_stars"] = max(stars) if stars else None
    merged["featured_on"] = _latest(current["featured_on"], new["featured_on"])
    merged["published_at"] = _earliest(current["published_at"], new["published_at"])
    merged["announced_on"] = _earliest(current["announced_on"], new["announced_on"])
    return merged


def _stored(row: RowMapping) -> dict[str, Any]:
    """A row as record values: SQLite hands datetimes back without their offset."""
    values = {name: row[name] for name in MERGED}
    values["published_at"] = as_utc(row["published_at"]) if row["published_at"] else None
    for name in ("authors", "ai_keywords", "categories", "sources"):
        values[name] = list(row[name] or [])
    return values


def revise_values(current: Mapping[str, Any], record: ListedPaper) -> dict[str, Any]:
    """``current`` with the revised version's title, abstract and authors (when it has them)."""
    merged = merge_values(current, record)
    # A revision is announced today, but the paper is not today's news.
    for name in ("announced_on", "published_at"):
        merged[name] = current[name]
    for name in _REVISED:
        value = getattr(record, name)
        if value:
            merged[name] = list(value) if name == "authors" else value
    return merged


def upsert_papers(
    session: Session, records: Sequence[ListedPaper | Revision], *, now: datetime
) -> UpsertCounts:
    """Insert or merge one batch inside the caller's transaction."""
    keys = list(dict.fromkeys(_record(item).source_id for item in records))
    table = _TABLE
    rows = session.execute(select(table).where(table.c.source_id.in_(keys))).mappings()
    stored = {row["source_id"]: (row["id"], _stored(row)) for row in rows}
    merged: dict[str, dict[str, Any]] = {}
    counts = UpsertCounts()
    revised: set[str] = set()
    for item in records:
        record = _record(item)
        known = merged.get(record.source_id) or stored.get(record.source_id, (0, None))[1]
        if isinstance(item, Revision):
            counts.replaced += 1
            if known is not None:
                merged[record.source_id] = revise_values(known, record)
                revised.add(record.source_id)
            continue
        merged[record.source_id] = (
            merge_values(known, record) if known is not None else record_values(record)
        )
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for key, values in merged.items():
        if key not in stored:
            inserts.append({**values, "source_id": key, "first_seen_at": now, "updated_at": now})
        elif values != stored[key][1]:
            updates.append({**values, "row_id": stored[key][0], "updated_at": now})
            counts.revised += key in revised
        elif key not in revised:
            counts.unchanged += 1
    # Core executemany: one statement for the batch (the ORM bulk path splits rows by NULLs).
    if inserts:
        session.execute(insert(table), inserts)
    if updates:
        session.execute(_UPDATE, updates)
    counts.new, counts.updated = len(inserts), len(updates) - counts.revised
    return counts


def _record(item: ListedPaper | Revision) -> ListedPaper:
    return item.record if isinstance(item, Revision) else item


def store_items(
    db: Database,
    items: Iterable[ListedPaper | Revision | Skipped],
    *,
    now: datetime,
    batch_size: int = BATCH_SIZE,
    on_progress: Callable[[int], None] | None = None,
) -> UpsertCounts:
    """Stream items into the store, one transaction per batch, so memory stays flat."""
    total = UpsertCounts()
    batch: list[ListedPaper | Revision] = []
    seen = 0

    def flush() -> None:
        nonlocal seen
        if batch:
            total.add(_write(db, batch, now))
            batch.clear()
        if on_progress is not None and seen:
            on_progress(seen)
        seen = 0

    for item in items:
        seen += 1
        if isinstance(item, Skipped):
            total.skip(item)
            continue
        batch.append(item)
        if len(batch) >= batch_size:
            flush()
    flush()
    return total


def _write(
    db: Database, batch: Sequence[ListedPaper | Revision], now: datetime
) -> UpsertCounts:
    """A concurrent run may insert the same paper first: then the batch is merged again."""
    try:
        with db.session() as session:
            return upsert_papers(session, batch, now=now)
    except IntegrityError:
        with db.session() as session:
            return upsert_papers(session, batch, now=now)


def news_in_window(first_day: date, last_day: date, seen_since: datetime) -> ColumnElement[bool]:
    """Papers that are news for a digest covering ``first_day``..``last_day``.

    A paper is news when its listing says it was announced (``announced_on``) or featured on
    Hugging Face (``featured_on``) within the window: a paper stored today that was announced a
    year ago (``newsletter ingest --date``) is not. Only a paper whose listing gives neither day
    (a JSON file without ``announced_on``) falls back to when it was first stored.
    """
    return or_(
        Paper.announced_on.between(first_day, last_day),
        Paper.featured_on.between(first_day, last_day),
        and_(
            Paper.announced_on.is_(None),
            Paper.featured_on.is_(None),
            Paper.first_seen_at >= seen_since,
        ),
    )
