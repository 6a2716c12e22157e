"""Building an edition: one ledger row per due subscriber, written once, chunk by chunk.

The build streams due subscribers in id order, ``chunk`` at a time. For each chunk it reads
what they were already given, scores the chunk's distinct topics in one batch, chooses each
reader's papers (a cache look-up for anyone whose topics, size and exclusions were seen before),
writes the chunk's rows (COPY on PostgreSQL) and adds them to the edition's ``stats``, then
commits. Memory is bounded by one chunk plus the matcher's bounded caches, whatever the number
of subscribers; the time follows the number of distinct profiles and rows.

Idempotence comes from the database, not from checks in Python: the edition row and each
delivery row are unique ((frequency, date) and (edition, subscriber)), so building twice, or
two builders at once, creates nothing new. A build killed at any point has committed whole
chunks only, their rows and their stats together; building again skips the subscribers that
have a row and writes the rest. A subscriber with nothing relevant still gets a row,
``suppressed`` with ``NOTHING_RELEVANT`` as its reply: the ledger then says who was
considered, and a rebuild does not match them again.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import chain
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.delivery.editions.choosing import Chooser, already_given, candidate_papers
from newsletter.delivery.editions.readers import count_due, due_chunks
from newsletter.delivery.editions.rows import Planned, write_rows
from newsletter.store.database import Database
from newsletter.store.models import Edition, Frequency

# Called after each committed chunk with (readers done, readers due when the build started).
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class EditionStats:
    """What one build call did; ``totals`` is the edition's running ``stats``."""

    edition_id: int
    frequency: Frequency
    issue_date: date
    due: int
    queued: int
    trending: int
    nothing_relevant: int
    totals: dict[str, int]


def _insert(session: Session, model: Any) -> postgresql.Insert | sqlite.Insert:
    """The dialect's INSERT, which knows ON CONFLICT; both spell it the same way."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def edition_id_for(session: Session, frequency: Frequency, issue_date: date, now: datetime) -> int:
    statement = _insert(session, Edition).values(
        frequency=frequency, issue_date=issue_date, created_at=now, stats={}
    )
    session.execute(statement.on_conflict_do_nothing(index_elements=["frequency", "issue_date"]))
    found = session.scalar(
        select(Edition.id).where(Edition.frequency == frequency, Edition.issue_date == issue_date)
    )
    assert found is not None
    return found


def _count(written: Sequence[Planned]) -> dict[str, int]:
    modes = [choice.mode for _, choice in written]
    return {
        "due": len(modes),
        "queued": len(modes) - modes.count("nothing"),
        "trending": modes.count("trending"),
        "nothing_relevant": modes.count("nothing"),
    }


def _add_stats(conn: Connection, edition_id: int, counts: dict[str, int]) -> dict[str, int]:
    """Add a chunk's counts to the edition's, under its row lock, in the chunk's transaction.

    Core rather than the ORM: the session keeps objects across commits, and a re-read Edition
    would come back with the stats of the previous chunk.
    """
    stats = conn.scalar(
        select(Edition.stats).where(Edition.id == edition_id).with_for_update()
    ) or {}
    totals = {key: int(stats.get(key, 0)) + counts.get(key, 0)
              for key in ("due", "queued", "trending", "nothing_relevant")}
    conn.execute(update(Edition).where(Edition.id == edition_id).values(stats=totals))
    return totals


def build_edition(
    db: Database,
    settings: Settings,
    *,
    frequency: Frequency,
    issue_date: date,
    now: datetime,
    subscriber_ids: Collection[int] | None = None,
    progress: Progress | None = None,
) -> EditionStats:
    """Queue one edition for every due subscriber (all active ones of ``frequency`` if None).

    Chunks are written by a second thread on its own connection while this one reads and
    chooses the next: the database's work on one chunk overlaps Python's on the next (the
    machine's second core), at most one chunk waits, and each write is still one transaction
    with its stats.
    """
    now = now.astimezone(UTC)
    counts = dict.fromkeys(("due", "queued", "trending", "nothing_relevant"), 0)
    with db.session() as session:
        edition_id = edition_id_for(session, frequency, issue_date, now)
        session.commit()
        totals = _totals(session, edition_id)
        total = count_due(session, edition_id, frequency, subscriber_ids) if progress else 0
        chunks = due_chunks(session, edition_id, frequency, subscriber_ids,
                            settings.edition_chunk_size, now=now)
        first = next(chunks, None)
        if first is None:
            return EditionStats(edition_id, frequency, issue_date, totals=totals, **counts)
        papers = candidate_papers(session, frequency, issue_date, now)
        chooser = Chooser(papers, now=now, semantic=settings.semantic_matching)
        done = 0
        pending: Future[tuple[dict[str, int], dict[str, int], int]] | None = None

        def settle() -> None:
            nonlocal counts, totals, done
            assert pending is not None
            written, totals, size = pending.result()
            counts = {key: counts[key] + written[key] for key in counts}
            done += size
            if progress is not None:
                progress(done, max(total, done))

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="edition-writer") as writer:
            for readers in chain([first], chunks):
                ids = [reader.id for reader in readers]
                given = already_given(session, ids, frequency, issue_date)
                session.commit()  # reads only: end the snapshot, nothing stays open
                chooser.prepare(readers)
                planned = [(r.id, chooser.choose(r, given.get(r.id, ()))) for r in readers]
                if pending is not None:
                    settle()
                pending = writer.submit(_write_chunk, db, edition_id, planned, now)
            settle()
    return EditionStats(edition_id, frequency, issue_date, totals=totals, **counts)


def _write_chunk(
    db: Database, edition_id: int, planned: list[Planned], now: datetime
) -> tuple[dict[str, int], dict[str, int], int]:
    """One chunk's rows and stats in one transaction: (written counts, new totals, size)."""
    with db.session() as session:
        written = _count(write_rows(session, edition_id, planned, now))
        totals = _add_stats(session.connection(), edition_id, written)
    return written, totals, len(planned)


def _totals(session: Session, edition_id: int) -> dict[str, int]:
    stats = session.scalar(select(Edition.stats).where(Edition.id == edition_id)) or {}
    return {key: int(value) for key, value in stats.items()}
