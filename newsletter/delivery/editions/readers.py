"""Who is due for an edition, streamed in chunks as plain values ready for matching.

Plain values rather than ORM objects: loading subscribers with their topics through the ORM
costs more than matching them. Chunks are read by keyset (``id > last id seen``, in id order),
which needs no long-lived cursor, so the build can commit after every chunk and a killed build
resumes where it stopped: subscribers that already have a row in the edition are not due.

Topic columns stored as JSON are read as their text and decoded once per distinct topic: a
:class:`TopicBook` hands out one shared :class:`TopicSpec` per distinct topic and one shared
tuple per distinct topic list, from chunk to chunk. A million readers of the same curated
topics then cost a million dictionary look-ups rather than three million JSON decodings, and
choosing can recognise a recurring profile by identity instead of hashing it again.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Sequence
from datetime import datetime
from operator import is_
from typing import Any, NamedTuple

from sqlalchemy import Connection, Select, Text, cast, exists, func, select
from sqlalchemy.orm import Session

from newsletter.preferences import TopicSpec
from newsletter.store.bulkread import plain_rows
from newsletter.store.idsets import among
from newsletter.store.models import (
    Delivery,
    Frequency,
    Subscriber,
    SubscriberStatus,
    Topic,
    Verdict,
)
from newsletter.store.subscribers import topic_specs, with_verdicts
from newsletter.store.verdicts import Judged, judged_papers

# Distinct topics and topic lists a book remembers before it starts afresh: recurring ones are
# back after one chunk, a free-text reader's own are forgotten.
BOOK_SIZE = 20_000

RawTopic = tuple[str, str, str, str, str]  # label, keywords, authors, excluded (JSON), description


class Reader(NamedTuple):
    """What choosing needs of a subscriber (a named tuple: a build makes a million of them,
    and a frozen dataclass takes several times longer to construct)."""

    id: int
    topics: tuple[TopicSpec, ...]
    digest_size: int
    always_send: bool
    dismissed: frozenset[int] = frozenset()

    @classmethod
    def of(cls, subscriber: Subscriber, judged: Sequence[Judged] = ()) -> Reader:
        return cls(subscriber.id, tuple(with_verdicts(topic_specs(subscriber), judged)),
                   subscriber.digest_size, subscriber.always_send, _dismissed(judged))


class TopicBook:
    """One shared spec per distinct stored topic, one shared tuple per distinct topic list.

    Bounded the simplest way: when full, it is emptied (a plain dict stays C-speed, which an
    LRU written in Python would not). Sharing is an optimisation only; nothing depends on it.
    """

    def __init__(self, size: int = BOOK_SIZE) -> None:
        self.size = size
        self.known: dict[RawTopic, TopicSpec] = {}
        self._lists: dict[tuple[int, ...], tuple[TopicSpec, ...]] = {}

    def spec(self, raw: RawTopic) -> TopicSpec:
        found = self.known.get(raw)
        if found is None:
            if len(self.known) >= self.size:
                self.known.clear()
            label, keywords, authors, excluded, description = raw
            found = self.known[raw] = TopicSpec(
                label, _terms(keywords), _terms(authors), _terms(excluded), description or ""
            )
        return found

    def topics(self, specs: list[TopicSpec]) -> tuple[TopicSpec, ...]:
        """The shared tuple for these specs (by identity: equality ignores descriptions)."""
        key = tuple(map(id, specs))
        found = self._lists.get(key)
        if found is None or not all(map(is_, found, specs)):
            if len(self._lists) >= self.size:
                self._lists.clear()
            found = self._lists[key] = tuple(specs)
        return found


def _terms(text: str | None) -> tuple[str, ...]:
    return tuple(json.loads(text)) if text else ()


def _due(edition_id: int, frequency: Frequency) -> Select[int, int, bool]:
    """Active subscribers of this frequency with no row in this edition yet (for counting)."""
    served = exists().where(
        Delivery.edition_id == edition_id, Delivery.subscriber_id == Subscriber.id
    )
    return select(Subscriber.id, Subscriber.digest_size, Subscriber.always_send).where(
        Subscriber.status == SubscriberStatus.ACTIVE, Subscriber.frequency == frequency, ~served
    )


def count_due(
    session: Session, edition_id: int, frequency: Frequency, ids: Collection[int] | None
) -> int:
    """How many readers :func:`due_chunks` will yield (for a progress bar)."""
    counting = _due(edition_id, frequency).with_only_columns(func.count())
    if ids is None:
        return int(session.scalar(counting) or 0)
    wanted = sorted(set(ids))
    return sum(
        int(session.scalar(counting.where(Subscriber.id.in_(wanted[start : start + 5000]))) or 0)
        for start in range(0, len(wanted), 5000)
    )


def due_chunks(
    session: Session,
    edition_id: int,
    frequency: Frequency,
    ids: Collection[int] | None,
    size: int,
    book: TopicBook | None = None,
    *,
    now: datetime,
) -> Iterator[list[Reader]]:
    """Due readers in id order, at most ``size`` at a time (all active ones of ``frequency``
    if ``ids`` is None).

    Each chunk is queried when the previous one has been consumed, so the caller may commit
    in between; a reader written meanwhile by another build is simply no longer due. Three
    plain index scans per chunk (subscribers by id, this edition's rows and the topics for the
    same ids) rather than one statement with an anti-join: the planner's statistics for the
    edition are stale while the build fills it, and a join planned on them sorted or scanned
    whole tables once per chunk.
    """
    book = book or TopicBook()
    active = select(Subscriber.id, Subscriber.digest_size, Subscriber.always_send).where(
        Subscriber.status == SubscriberStatus.ACTIVE, Subscriber.frequency == frequency
    )
    if ids is not None:
        wanted = sorted(set(ids))
        for start in range(0, len(wanted), size):
            part = wanted[start : start + size]
            rows = session.connection().execute(active.where(Subscriber.id.in_(part))).all()
            chunk = _with_verdicts(session, _readers(session.connection(), edition_id, rows, book),
                                   now)
            if chunk:
                yield chunk
        return
    after = 0
    keyset = active.order_by(Subscriber.id).limit(size)
    while True:
        rows = session.connection().execute(keyset.where(Subscriber.id > after)).all()
        if not rows:
            return
        after = rows[-1].id
        chunk = _with_verdicts(session, _readers(session.connection(), edition_id, rows, book), now)
        if chunk:
            yield chunk


def _readers(
    conn: Connection, edition_id: int, rows: Sequence[Any], book: TopicBook
) -> list[Reader]:
    """Readers for rows of (id, digest_size, always_send) in id order, minus those served."""
    ids = [row.id for row in rows]
    served = set(
        conn.scalars(
            select(Delivery.subscriber_id).where(
                Delivery.edition_id == edition_id, among(Delivery.subscriber_id, ids)
            )
        )
    )
    due = [row for row in rows if row.id not in served]
    if not due:
        return []
    wanted = {row.id for row in due}
    query = select(
        Topic.subscriber_id,
        Topic.position,
        Topic.label,
        cast(Topic.keywords, Text),
        cast(Topic.authors, Text),
        cast(Topic.excluded, Text),
        Topic.description,
    ).where(among(Topic.subscriber_id, [row.id for row in due]))
    found: dict[int, list[tuple[int, TopicSpec]]] = {}
    known = book.known
    for row in plain_rows(conn, query):  # one fetch, not a Python call per row
        owner = row[0]
        if owner in wanted:
            raw: RawTopic = row[2:]
            spec = known.get(raw) or book.spec(raw)
            mine = found.get(owner)
            if mine is None:
                found[owner] = [(row[1], spec)]
            else:
                mine.append((row[1], spec))
    readers = []
    none: list[tuple[int, TopicSpec]] = []
    for subscriber_id, digest_size, always_send in due:
        mine = found.get(subscriber_id, none)
        if len(mine) > 1:
            mine.sort(key=_first)
        specs = [spec for _, spec in mine]
        readers.append(Reader(subscriber_id, book.topics(specs), digest_size, always_send))
    return readers


def _with_verdicts(session: Session, readers: list[Reader], now: datetime) -> list[Reader]:
    """The chunk's readers with their verdicts as liked / disliked examples, weighed as of
    ``now`` (the edition's clock): one query per chunk. Readers with verdicts get topic tuples
    of their own; the others keep the shared ones."""
    if not readers:
        return readers
    judged = judged_papers(session, [reader.id for reader in readers], now=now)
    if not judged:
        return readers
    out = []
    for reader in readers:
        mine = judged.get(reader.id)
        if mine:
            reader = reader._replace(topics=tuple(with_verdicts(reader.topics, mine)),
                                     dismissed=_dismissed(mine))
        out.append(reader)
    return out


def _dismissed(judged: Sequence[Judged]) -> frozenset[int]:
    return frozenset(j.paper_id for j in judged if j.verdict is Verdict.DISLIKE)


def _first(item: tuple[int, TopicSpec]) -> int:
    return item[0]
