"""Who is due for an edition, streamed in chunks as plain values ready for matching.

Plain values rather than ORM objects: loading subscribers with their topics through the ORM
costs more than matching them. Chunks are read by keyset (``id > last id seen``, in id order),
which needs no long-lived cursor, so the build can commit after every chunk and a killed build
resumes where it stopped: subscribers that already have a row in the edition are not due.

Topic columns stored as JSON are read as their text and decoded once per distinct topic of the
chunk: identical topics then share one :class:`TopicSpec`, and a million readers of the same
curated topics cost a million dictionary look-ups rather than three million JSON decodings.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, Text, cast, exists, func, select
from sqlalchemy.orm import Session

from newsletter.preferences import TopicSpec
from newsletter.store.models import (
    Delivery,
    Frequency,
    Subscriber,
    SubscriberStatus,
    Topic,
)
from newsletter.store.subscribers import topic_specs

# A chunk's ids are fetched by range rather than listed when they fill at least this share of it.
DENSE = 0.25


@dataclass(frozen=True)
class Reader:
    """What choosing needs of a subscriber."""

    id: int
    topics: tuple[TopicSpec, ...]
    digest_size: int
    always_send: bool

    @classmethod
    def of(cls, subscriber: Subscriber) -> Reader:
        return cls(subscriber.id, tuple(topic_specs(subscriber)), subscriber.digest_size,
                   subscriber.always_send)


def _due(edition_id: int, frequency: Frequency) -> Select[int, int, bool]:
    """Active subscribers of this frequency with no row in this edition yet."""
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
) -> Iterator[list[Reader]]:
    """Due readers in id order, ``size`` at a time (all active ones of ``frequency`` if None).

    Each chunk is queried when the previous one has been consumed, so the caller may commit
    in between; a reader written meanwhile by another build is simply no longer due.
    """
    query = _due(edition_id, frequency).order_by(Subscriber.id)
    if ids is not None:
        wanted = sorted(set(ids))
        for start in range(0, len(wanted), size):
            part = wanted[start : start + size]
            chunk = _readers(session, list(session.execute(query.where(Subscriber.id.in_(part)))))
            if chunk:
                yield chunk
        return
    after = 0
    while True:
        rows = list(session.execute(query.where(Subscriber.id > after).limit(size)))
        if not rows:
            return
        after = rows[-1].id
        yield _readers(session, rows)


def _readers(session: Session, rows: Sequence[Any]) -> list[Reader]:
    """Readers for rows of (id, digest_size, always_send), in id order, with their topics."""
    topics = _topics(session, [row.id for row in rows])
    return [
        Reader(row.id, topics.get(row.id, ()), row.digest_size, row.always_send) for row in rows
    ]


def _topics(session: Session, ids: Sequence[int]) -> dict[int, tuple[TopicSpec, ...]]:
    """Each subscriber's topics in order; identical topics and topic lists are shared."""
    if not ids:
        return {}
    columns = (
        Topic.subscriber_id,
        Topic.label,
        cast(Topic.keywords, Text),
        cast(Topic.authors, Text),
        cast(Topic.excluded, Text),
        Topic.description,
    )
    low, high = min(ids), max(ids)
    query = select(*columns).order_by(Topic.subscriber_id, Topic.position)
    if len(ids) >= DENSE * (high - low + 1):
        query = query.where(Topic.subscriber_id.between(low, high))
    else:
        query = query.where(Topic.subscriber_id.in_(ids))
    wanted = set(ids)
    specs: dict[tuple[str, ...], TopicSpec] = {}
    found: dict[int, list[TopicSpec]] = {}
    for owner, *raw in session.execute(query):
        if owner not in wanted:
            continue
        key = tuple(raw)
        spec = specs.get(key)
        if spec is None:
            label, keywords, authors, excluded, description = raw
            spec = specs[key] = TopicSpec(
                label, _terms(keywords), _terms(authors), _terms(excluded), description or ""
            )
        found.setdefault(owner, []).append(spec)
    # Keyed by identity: specs are already shared, and a spec's equality ignores its description.
    shared: dict[tuple[int, ...], tuple[TopicSpec, ...]] = {}
    return {
        owner: shared.setdefault(tuple(map(id, mine)), tuple(mine))
        for owner, mine in found.items()
    }


def _terms(text: str | None) -> tuple[str, ...]:
    return tuple(json.loads(text)) if text else ()
