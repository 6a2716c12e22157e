"""What happened to one send, and writing many of those to the ledger in one transaction.

Outcomes are recorded in batches (see :mod:`newsletter.delivery.ledger.recorder`): one executemany
UPDATE per kind instead of a commit per message keeps the database off the critical path.
Hard bounces are counted per subscriber and reset by a successful send, so only *consecutive*
permanent failures suppress an address (status ``bounced``).

A sender writes through an :class:`OutcomeWriter`: one connection held for the whole run, and
on PostgreSQL a batch without hard bounces in ONE statement (the deliveries and the
subscribers' reset in a data-modifying CTE, autocommitted), so a batch costs one round trip
instead of five (pool ping, BEGIN, UPDATE, subscribers UPDATE, COMMIT). The round trips
mattered more than their server time: the writing thread waits for the GIL after each one
while the event loop is busy sending (py-spy: 20 ms a batch of 20 during a send).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, case, text, update

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


_OUTCOMES = (
    update(TABLE)
    .where(TABLE.c.id == bindparam("b_id"), TABLE.c.status != S.SENT)
    .values(
        status=bindparam("b_status"), attempts=bindparam("b_attempts"),
        last_attempt_at=bindparam("b_at"), last_reply=bindparam("b_reply"),
        message_id=bindparam("b_message_id"), sent_at=bindparam("b_sent_at"),
        next_attempt_at=bindparam("b_next"), lease_owner=None, lease_expires_at=None,
    )
)

# The same effect as _OUTCOMES + _bounces for a batch without hard bounces, as one statement:
# PostgreSQL runs every data-modifying CTE to completion, and one statement is one transaction.
_ONE_TRIP = text(f"""
WITH o AS (
    SELECT * FROM unnest(CAST(:ids AS bigint[]), CAST(:statuses AS varchar[]),
                         CAST(:attempts AS integer[]), CAST(:ats AS timestamptz[]),
                         CAST(:replies AS text[]), CAST(:message_ids AS varchar[]),
                         CAST(:nexts AS timestamptz[]))
        AS o(id, status, attempts, at, reply, message_id, next_attempt_at)
), written AS (
    UPDATE {TABLE.name} AS d SET
        status = o.status, attempts = o.attempts, last_attempt_at = o.at, last_reply = o.reply,
        message_id = o.message_id, next_attempt_at = o.next_attempt_at,
        sent_at = CASE WHEN o.status = '{S.SENT.value}' THEN o.at END,
        lease_owner = NULL, lease_expires_at = NULL
    FROM o WHERE d.id = o.id AND d.status <> '{S.SENT.value}'
    RETURNING d.id
)
UPDATE {SUBSCRIBERS.name} SET hard_bounces = 0
WHERE id = ANY(CAST(:delivered AS bigint[])) AND hard_bounces > 0
""")


def record_outcomes(db: Database, outcomes: Sequence[Outcome], *, bounce_limit: int) -> None:
    """Write a batch of outcomes and their effect on subscribers, in one transaction."""
    if not outcomes:
        return
    with db.engine.begin() as connection:
        connection.execute(_OUTCOMES, [_row(o) for o in outcomes])
        _bounces(connection, outcomes, bounce_limit)


class OutcomeWriter:
    """Writes a sender's batches over one connection of its own, kept for the whole run.

    Not thread-safe: the sender calls it from its one writing thread. A failed write drops
    the connection (the next write opens a fresh one) and raises, as :func:`record_outcomes`.
    The held connection autocommits: each batch is one statement, hence one transaction.
    """

    def __init__(self, db: Database, *, bounce_limit: int) -> None:
        self.db = db
        self.bounce_limit = bounce_limit
        self._connection: Connection | None = None

    def write(self, outcomes: Sequence[Outcome]) -> None:
        if not outcomes:
            return
        if self.db.is_sqlite or any(o.hard_bounce for o in outcomes):
            # SQLite has no round trips to save; bounces are rare: the plain transaction.
            record_outcomes(self.db, outcomes, bounce_limit=self.bounce_limit)
            return
        if self._connection is None:
            self._connection = self.db.engine.connect().execution_options(
                isolation_level="AUTOCOMMIT"
            )
        try:
            self._connection.execute(_ONE_TRIP, {
                "ids": [o.delivery_id for o in outcomes],
                "statuses": [o.status.value for o in outcomes],
                "attempts": [o.attempts for o in outcomes],
                "ats": [o.at for o in outcomes],
                "replies": [o.reply for o in outcomes],
                "message_ids": [o.message_id for o in outcomes],
                "nexts": [o.next_attempt_at for o in outcomes],
                "delivered": sorted({o.subscriber_id for o in outcomes if o.status is S.SENT}),
            })
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            connection.close()


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
        count_bounces(connection, bounced, limit)


def count_bounces(
    connection: Any, subscriber_ids: Sequence[int], limit: int, *, at_least: int = 0
) -> None:
    """One more failure for each subscriber; at ``limit`` the address is suppressed (bounced).

    Also used for soft bounces that come back by mail (``newsletter.inbound``), which pass
    ``at_least``: the bounces of recent days, which a successful hand-off in between reset."""
    more = SUBSCRIBERS.c.hard_bounces + 1
    connection.execute(
        update(SUBSCRIBERS).where(SUBSCRIBERS.c.id.in_(subscriber_ids))
        .values(hard_bounces=case((more < at_least, at_least), else_=more) if at_least else more)
    )
    connection.execute(
        update(SUBSCRIBERS)
        .where(SUBSCRIBERS.c.id.in_(subscriber_ids), SUBSCRIBERS.c.hard_bounces >= limit,
               SUBSCRIBERS.c.status == SubscriberStatus.ACTIVE)
        .values(status=SubscriberStatus.BOUNCED)
    )
