"""Who is due for an edition, as plain values ready for matching.

Plain values rather than ORM objects: loading 20,000 subscribers with their topics through
the ORM costs more than matching them, and identical topic specs are shared so the matcher's
per-topic caches stay hot.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.preferences import TopicSpec
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

CHUNK = 500


@dataclass(frozen=True)
class Reader:
    """What choosing needs of a subscriber; ``dismissed``: papers they said "Not for me" to,
    never given to them again whatever matching makes of them."""

    id: int
    topics: tuple[TopicSpec, ...]
    digest_size: int
    always_send: bool
    dismissed: frozenset[int] = frozenset()

    @classmethod
    def of(cls, subscriber: Subscriber, judged: Sequence[Judged] = ()) -> Reader:
        return cls(subscriber.id, tuple(with_verdicts(topic_specs(subscriber), judged)),
                   subscriber.digest_size, subscriber.always_send, _dismissed(judged))


def _dismissed(judged: Sequence[Judged]) -> frozenset[int]:
    return frozenset(j.paper_id for j in judged if j.verdict is Verdict.DISLIKE)


def due_readers(
    session: Session,
    edition_id: int,
    frequency: Frequency,
    ids: Collection[int] | None,
    *,
    now: datetime,
) -> list[Reader]:
    """Active subscribers of this frequency (among ``ids``) with no row in this edition yet,
    with their verdicts weighed as of ``now`` (the edition's clock)."""
    served = select(Delivery.subscriber_id).where(Delivery.edition_id == edition_id)
    query = (
        select(Subscriber.id, Subscriber.digest_size, Subscriber.always_send)
        .where(Subscriber.status == SubscriberStatus.ACTIVE, Subscriber.frequency == frequency)
        .where(Subscriber.id.not_in(served))
    )
    rows: list[Any] = []
    if ids is None:
        rows = list(session.execute(query))
    else:
        wanted = sorted(set(ids))
        for start in range(0, len(wanted), CHUNK):
            rows += session.execute(query.where(Subscriber.id.in_(wanted[start : start + CHUNK])))
    topics = _topics(session, [row.id for row in rows])
    judged = judged_papers(session, [row.id for row in rows], now=now)
    readers = []
    for row in sorted(rows, key=lambda r: r.id):
        mine = judged.get(row.id, ())
        specs = with_verdicts(topics.get(row.id, ()), mine)
        readers.append(
            Reader(row.id, tuple(specs), row.digest_size, row.always_send, _dismissed(mine))
        )
    return readers


def _topics(session: Session, ids: Sequence[int]) -> dict[int, list[TopicSpec]]:
    """Each subscriber's topics in order; identical specs are shared, which keeps the
    matcher's per-topic caches hot and the memory small."""
    specs: dict[TopicSpec, TopicSpec] = {}
    found: dict[int, list[TopicSpec]] = {}
    columns = (
        Topic.subscriber_id,
        Topic.label,
        Topic.keywords,
        Topic.authors,
        Topic.excluded,
        Topic.description,
    )
    for start in range(0, len(ids), CHUNK):
        rows = session.execute(
            select(*columns)
            .where(Topic.subscriber_id.in_(ids[start : start + CHUNK]))
            .order_by(Topic.subscriber_id, Topic.position)
        )
        for owner, label, keywords, authors, excluded, description in rows:
            spec = TopicSpec(label, tuple(keywords), tuple(authors), tuple(excluded), description)
            found.setdefault(owner, []).append(specs.setdefault(spec, spec))
    return found
