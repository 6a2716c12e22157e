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

from collections import deque
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.delivery.editions.choosing import Chooser, already_given, candidate_papers
from newsletter.delivery.editions.collector import fewer_collections
from newsletter.delivery.editions.processes import (
    Choosing,
    InProcess,
    InWorkers,
    workers_for,
)
from newsletter.delivery.editions.readers import Reader, count_due, due_chunks
from newsletter.delivery.editions.rows import Planned, write_rows
from newsletter.store.database import Database
from newsletter.store.models import Edition, Frequency

# Chunks written at once on PostgreSQL, each by its own thread and connection: the database
# checks each row's foreign keys and updates four indexes, and one COPY at a time kept only one
# of its cores busy. SQLite has one writer at a time whatever we do.
WRITERS = {"postgresql": 2, "sqlite": 1}
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
    would come back with the stats of the previous chunk. The lock is FOR NO KEY UPDATE: the
    other writer's COPY holds a key-share lock on the same row (its foreign-key checks), which
    FOR UPDATE would wait for while that writer waits for this one: a deadlock.
    """
    stats = conn.scalar(
        select(Edition.stats).where(Edition.id == edition_id).with_for_update(key_share=True)
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

    Three stages overlap, each on its own connection: a reader thread reads the next chunk,
    papers are chosen for the current one (in this thread, or in worker processes for a large
    build: :mod:`~newsletter.delivery.editions.processes`), and writer threads write the
    previous ones (``WRITERS``: two at once on PostgreSQL). The database's work on the other
    chunks then overlaps Python's on this one; a bounded number of chunks wait at each
    hand-over, and each write is still one transaction with its stats.
    """
    now = now.astimezone(UTC)
    counts = dict.fromkeys(("due", "queued", "trending", "nothing_relevant"), 0)
    writers = WRITERS.get(db.engine.dialect.name, 1)
    with db.session() as session, db.session() as reading, ThreadPoolExecutor(
        max_workers=1, thread_name_prefix="edition-reader"
    ) as reader, ThreadPoolExecutor(
        max_workers=writers, thread_name_prefix="edition-writer"
    ) as writer:
        edition_id = edition_id_for(session, frequency, issue_date, now)
        session.commit()
        totals = _totals(session, edition_id)
        total = count_due(session, edition_id, frequency, subscriber_ids)
        session.commit()
        chunks = _Chunks(reading, edition_id, frequency, issue_date, subscriber_ids,
                         settings.edition_chunk_size, now)
        fetched = reader.submit(chunks.next)
        first = fetched.result()
        if first is None:
            return EditionStats(edition_id, frequency, issue_date, totals=totals, **counts)
        fetched = reader.submit(chunks.next)  # the second chunk is read while the matcher builds
        processes = workers_for(total, settings.edition_chunk_size, settings.edition_processes,
                                settings.semantic_matching)
        choosing: Choosing
        if processes:
            choosing = InWorkers(db.url, frequency, issue_date, now, settings.semantic_matching,
                                 processes)
        else:
            papers = candidate_papers(session, frequency, issue_date, now)
            session.commit()
            choosing = InProcess(Chooser(papers, now=now, semantic=settings.semantic_matching))
        done = 0
        chosen: deque[Future[list[Planned]]] = deque()
        pending: deque[Future[tuple[dict[str, int], dict[str, int], int]]] = deque()

        def settle() -> None:
            nonlocal counts, totals, done
            written, latest, size = pending.popleft().result()
            # Two writers may commit out of order; the totals only grow.
            totals = max(totals, latest, key=lambda t: t.get("due", 0))
            counts = {key: counts[key] + written[key] for key in counts}
            done += size
            if progress is not None:
                progress(done, max(total, done))

        chunk: tuple[list[Reader], dict[int, set[int]]] | None = first
        try:
            with fewer_collections():
                while chunk is not None or chosen:
                    # Each worker has a chunk in hand and one waiting (in-process: one at a time).
                    while chunk is not None and len(chosen) <= processes:
                        chosen.append(choosing.submit(*chunk))
                        chunk = fetched.result()
                        if chunk is not None:
                            fetched = reader.submit(chunks.next)
                    planned = chosen.popleft().result()
                    if len(pending) >= writers:
                        settle()
                    pending.append(writer.submit(_write_chunk, db, edition_id, planned, now))
                while pending:
                    settle()
        finally:
            choosing.close()
    return EditionStats(edition_id, frequency, issue_date, totals=totals, **counts)


class _Chunks:
    """Due readers and what they were already given, a chunk per call, on the reading session.

    Called on the reader thread only, one call at a time, so the next chunk's queries run while
    this thread chooses papers for the current one; each call ends its snapshot (reads only).
    """

    def __init__(
        self,
        session: Session,
        edition_id: int,
        frequency: Frequency,
        issue_date: date,
        ids: Collection[int] | None,
        size: int,
        now: datetime,
    ) -> None:
        self.session = session
        self.frequency = frequency
        self.issue_date = issue_date
        self._chunks = due_chunks(session, edition_id, frequency, ids, size, now=now)

    def next(self) -> tuple[list[Reader], dict[int, set[int]]] | None:
        readers = next(self._chunks, None)
        if readers is None:
            self.session.commit()
            return None
        ids = [reader.id for reader in readers]
        given = already_given(self.session, ids, self.frequency, self.issue_date)
        self.session.commit()
        return readers, given


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
