"""The delivery ledger is the send queue: claims with leases, outcomes, reclaiming the dead.

A sender *claims* due ``pending`` rows by switching them to ``sending`` with its name and a
lease expiry, in one statement (``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED)
RETURNING``; SQLite ignores the locking clause, and has one writer anyway). Any number of
workers can share one PostgreSQL this way without ever claiming the same row. A sender that
dies leaves its rows ``sending``; once their lease has expired anyone may put them back to
``pending`` (:meth:`Ledger.reclaim_expired`). Status is re-checked at claim time: a subscriber
who left after the edition was built gets ``suppressed``, not mail.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from newsletter.clock import as_utc
from newsletter.store.database import Database
from newsletter.store.models import (
    Delivery,
    DeliveryStatus,
    Edition,
    Frequency,
    Paper,
    Subscriber,
    SubscriberStatus,
)

# last_reply of the suppressed row an edition writes for a subscriber with nothing relevant
NOTHING_RELEVANT = "skipped: nothing relevant"
TABLE = cast(Table, Delivery.__table__)
S = DeliveryStatus


@dataclass(frozen=True)
class Claimed:
    id: int
    subscriber_id: int
    email: str
    paper_ids: tuple[int, ...]
    reasons: dict[str, Any]
    attempts: int
    created_at: datetime
    frequency: Frequency
    issue_date: date
    token_nonce: str  # signs the digest's feedback links (tokens.feedback_check)


class Ledger:
    """Ledger operations for one sender (``owner``); each call is one short transaction."""

    def __init__(self, db: Database, *, owner: str, lease_seconds: float) -> None:
        self.db = db
        self.owner = owner
        self.lease = timedelta(seconds=lease_seconds)

    def reclaim_expired(self, now: datetime) -> int:
        with self.db.session() as session:
            result = session.execute(
                update(Delivery)
                .where(Delivery.status == S.SENDING, Delivery.lease_expires_at < now)
                .values(status=S.PENDING, lease_owner=None, lease_expires_at=None),
                execution_options={"synchronize_session": False},
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def claim(
        self, now: datetime, limit: int, edition_id: int | None = None
    ) -> tuple[list[Claimed], int]:
        """Lease up to ``limit`` due rows; rows of inactive subscribers become suppressed.

        Returns the claims to send and how many rows were suppressed.
        """
        pick = (
            select(Delivery.id)
            .where(Delivery.status == S.PENDING, Delivery.next_attempt_at <= now,
                   Delivery.edition_id.is_not(None))  # account emails: ledger.outbox
            .order_by(Delivery.next_attempt_at, Delivery.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        if edition_id is not None:
            pick = pick.where(Delivery.edition_id == edition_id)
        with self.db.session() as session:
            ids = session.scalars(
                update(Delivery)
                .where(Delivery.id.in_(pick.scalar_subquery()))
                .values(status=S.SENDING, lease_owner=self.owner,
                        lease_expires_at=now + self.lease)
                .returning(Delivery.id),
                execution_options={"synchronize_session": False},
            ).all()
            return self._details(session, ids, now) if ids else ([], 0)

    def peek(self, now: datetime, limit: int, edition_id: int | None = None) -> list[Claimed]:
        """What :meth:`claim` would take, without taking it (dry runs)."""
        query = select(Delivery.id).where(
            Delivery.status == S.PENDING, Delivery.next_attempt_at <= now,
            Delivery.edition_id.is_not(None),
        )
        if edition_id is not None:
            query = query.where(Delivery.edition_id == edition_id)
        with self.db.sessions() as session:
            ids = session.scalars(query.order_by(Delivery.id).limit(limit)).all()
            return self._details(session, ids, now)[0] if ids else []

    def _details(
        self, session: Session, ids: Sequence[int], now: datetime
    ) -> tuple[list[Claimed], int]:
        d = TABLE.c
        rows = session.execute(
            select(d.id, d.subscriber_id, d.paper_ids, d.reasons, d.attempts, d.created_at,
                   Subscriber.email, Subscriber.status, Subscriber.token_nonce,
                   Edition.frequency, Edition.issue_date)
            .join(Subscriber, Subscriber.id == d.subscriber_id)
            .join(Edition, Edition.id == d.edition_id)
            .where(d.id.in_(ids))
            .order_by(d.id)
        ).all()
        claimed, gone = [], []
        for row in rows:
            if row.status is not SubscriberStatus.ACTIVE:
                gone.append({"b_id": row.id, "b_reply": f"not sent: subscriber is {row.status}"})
                continue
            claimed.append(Claimed(
                row.id, row.subscriber_id, row.email, tuple(row.paper_ids or ()),
                dict(row.reasons or {}), row.attempts, as_utc(row.created_at),
                row.frequency, row.issue_date, row.token_nonce,
            ))
        suppress_claimed(session, gone, now)
        return claimed, len(gone)

    def papers(self, ids: Collection[int]) -> list[Paper]:
        if not ids:
            return []
        with self.db.session() as session:
            return list(session.scalars(select(Paper).where(Paper.id.in_(list(ids)))))

    def extend_leases(self, now: datetime) -> None:
        """Keep our claims while we work through them (a live sender must not be reclaimed)."""
        with self.db.session() as session:
            session.execute(
                update(Delivery)
                .where(Delivery.lease_owner == self.owner, Delivery.status == S.SENDING)
                .values(lease_expires_at=now + self.lease),
                execution_options={"synchronize_session": False},
            )

    def release(self, ids: Collection[int]) -> None:
        """Hand back claimed rows we will not send (graceful stop)."""
        if not ids:
            return
        with self.db.session() as session:
            session.execute(
                update(Delivery)
                .where(Delivery.id.in_(list(ids)), Delivery.lease_owner == self.owner,
                       Delivery.status == S.SENDING)
                .values(status=S.PENDING, lease_owner=None, lease_expires_at=None),
                execution_options={"synchronize_session": False},
            )

    def requeue_ambiguous(self, now: datetime, edition_id: int | None = None) -> int:
        """Operator's choice (``newsletter send --retry-ambiguous``): send them again."""
        query = update(Delivery).where(Delivery.status == S.AMBIGUOUS)
        if edition_id is not None:
            query = query.where(Delivery.edition_id == edition_id)
        with self.db.session() as session:
            result = session.execute(
                query.values(status=S.PENDING, next_attempt_at=now),
                execution_options={"synchronize_session": False},
            )
            return int(getattr(result, "rowcount", 0) or 0)


def suppress_claimed(session: Session, gone: list[dict[str, object]], now: datetime) -> None:
    """Claimed rows whose subscriber left meanwhile: suppressed with the reason, never sent.
    ``gone`` holds ``{"b_id": row id, "b_reply": reason}``."""
    if gone:
        session.execute(
            update(TABLE).where(TABLE.c.id == bindparam("b_id")).values(
                status=S.SUPPRESSED, last_reply=bindparam("b_reply"),
                lease_owner=None, lease_expires_at=None, last_attempt_at=now),
            gone,
        )
