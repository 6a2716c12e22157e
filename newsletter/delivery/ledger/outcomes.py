"""What happened to one send, and writing many of those to the ledger in one transaction.

Outcomes are recorded in batches (see :mod:`newsletter.delivery.ledger.recorder`): one executemany
UPDATE per kind instead of a commit per message keeps the database off the critical path.
Hard bounces are counted per subscriber and reset by a successful send, so only *consecutive*
permanent failures suppress an address (status ``bounced``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, update

from newsletter.delivery.ledger.claims import TABLE
from newsletter.store.database import Database
from newsletter.store.models import DeliveryStatus, Subscriber, SubscriberStatus

S = DeliveryStatus
SUBSCRIBERS = cast(Table, Subscriber.__table__)


@dataclass(frozen=True)
class Outcome:
    """``status``: SENT, PENDING (retry at ``next_attempt_at``), FAILED, AMBIGUOUS, SUPPRESSED."""

    delivery_id: int
    subscriber_id: int
    status: DeliveryStatus
    attempts: int
    at: datetime
    reply: str | None = None
    message_id: str | None = None
    next_attempt_at: datetime | None = None
    hard_bounce: bool = False


def _row(o: Outcome) -> dict[str, Any]:
    return {
        "b_id": o.delivery_id, "b_status": o.status, "b_attempts": o.attempts, "b_at": o.at,
        "b_reply": o.reply, "b_message_id": o.message_id, "b_next": o.next_attempt_at,
        "b_sent_at": o.at if o.status is S.SENT else None,
    }


def record_outcomes(db: Database, outcomes: Sequence[Outcome], *, bounce_limit: int) -> None:
    """Write a batch of outcomes and their effect on subscribers, in one transaction."""
    if not outcomes:
        return
    statement = (
        update(TABLE)
        .where(TABLE.c.id == bindparam("b_id"), TABLE.c.status != S.SENT)
        .values(
            status=bindparam("b_status"), attempts=bindparam("b_attempts"),
            last_attempt_at=bindparam("b_at"), last_reply=bindparam("b_reply"),
            message_id=bindparam("b_message_id"), sent_at=bindparam("b_sent_at"),
            next_attempt_at=bindparam("b_next"), lease_owner=None, lease_expires_at=None,
        )
    )
    with db.session() as session:
        session.execute(statement, [_row(o) for o in outcomes])
        _bounces(session.connection(), outcomes, bounce_limit)


def _bounces(connection: Any, outcomes: Sequence[Outcome], limit: int) -> None:
    bounced = sorted({o.subscriber_id for o in outcomes if o.hard_bounce})
    delivered = sorted({o.subscriber_id for o in outcomes if o.status is S.SENT} - set(bounced))
    if delivered:
        connection.execute(
            update(SUBSCRIBERS)
            .where(SUBSCRIBERS.c.id.in_(delivered), SUBSCRIBERS.c.hard_bounces > 0)
            .values(hard_bounces=0)
        )
    if bounced:
        connection.execute(
            update(SUBSCRIBERS).where(SUBSCRIBERS.c.id.in_(bounced))
            .values(hard_bounces=SUBSCRIBERS.c.hard_bounces + 1)
        )
        connection.execute(
            update(SUBSCRIBERS)
            .where(SUBSCRIBERS.c.id.in_(bounced), SUBSCRIBERS.c.hard_bounces >= limit,
                   SUBSCRIBERS.c.status == SubscriberStatus.ACTIVE)
            .values(status=SubscriberStatus.BOUNCED)
        )
