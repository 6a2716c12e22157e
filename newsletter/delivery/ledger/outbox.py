"""Account emails in the ledger: the durable outbox.

The change that earns an email (a sign-up, a confirmation, new preferences) writes a
``deliveries`` row with no edition in the *same transaction* (:func:`queue_account_email`), so a
person told "check your inbox" always has a row that some sender will deliver, even if the
process dies the next instant or the relay is down for hours. What is stored is only the kind
of email: it is rendered when sent, from the subscriber as they are then. That keeps the
sign-up transaction one short row (no template work on the request path), and signs the links
at send time, so a confirm link is never stale and its 48-hour expiry starts when it is sent.

Senders claim these rows before digests (:func:`claim_account_emails`), under the same lease,
and their outcomes go through the same :func:`newsletter.delivery.failures.outcome_for` and
:func:`newsletter.delivery.ledger.outcomes.record_outcomes`: same retries, the same ambiguity
rule, the same hard-bounce counting.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, exists, insert, or_, select, update
from sqlalchemy.orm import Session

from newsletter.clock import as_utc
from newsletter.delivery.ledger.claims import TABLE, suppress_claimed
from newsletter.store.database import Database
from newsletter.store.models import (
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Frequency,
    Subscriber,
    SubscriberStatus,
    Topic,
)

S = DeliveryStatus
K = DeliveryKind
# The emails a sign-up earns: one at a time per address, within the throttle interval.
NOTICES = (K.CONFIRM, K.MANAGE)
_IN_FLIGHT = (S.PENDING, S.SENDING)


@dataclass(frozen=True)
class Recipient:
    """What an account email is rendered and signed from: the subscriber as they are at claim
    time, as plain values (loading ORM subscribers and their topics for every email was a tenth
    of ``newsletter serve``'s CPU under a stream of sign-ups, py-spy)."""

    id: int
    email: str
    status: SubscriberStatus
    token_nonce: str
    frequency: Frequency
    send_hour: int
    timezone: str
    topics: tuple[str, ...]  # labels, in the subscriber's order


@dataclass(frozen=True)
class AccountClaim:
    """A claimed account email, with the subscriber it is rendered from."""

    id: int
    subscriber_id: int
    kind: DeliveryKind
    attempts: int
    created_at: datetime
    subscriber: Recipient


# Built once, values bound at execution: both run on the sign-up's hot path, where building a
# statement per request cost more CPU than executing it (py-spy).
_QUEUE = insert(TABLE)
_SLOT_HELD = select(exists().where(
    Delivery.subscriber_id == bindparam("subscriber"),
    Delivery.edition_id.is_(None),
    Delivery.kind.in_(NOTICES),
    or_(Delivery.status.in_(_IN_FLIGHT),
        (Delivery.status == S.SENT) & (Delivery.sent_at > bindparam("since")),
        (Delivery.status == S.AMBIGUOUS) & (Delivery.last_attempt_at > bindparam("since"))),
))


def queue_account_email(
    session: Session, subscriber_id: int, kind: DeliveryKind, *, now: datetime
) -> None:
    """Add the email to the caller's transaction: it exists exactly when the change does.

    A plain INSERT on the session's connection (no ORM object): it runs on the sign-up's hot
    path."""
    session.connection().execute(_QUEUE, {
        "edition_id": None, "subscriber_id": subscriber_id, "kind": kind, "status": S.PENDING,
        "paper_ids": [], "reasons": {}, "attempts": 0, "next_attempt_at": now, "created_at": now,
    })


def notice_holds_slot(session: Session, subscriber_id: int, *, since: datetime) -> bool:
    """Whether a confirm/manage email still takes this address's throttle slot.

    A slot is held by an email that will still go out (pending or being sent), or that was
    sent after ``since`` (an ambiguous one counts as sent when it was tried: it has most likely
    arrived). An email that failed does not hold it, so the person can simply ask again.
    """
    held = session.connection().scalar(_SLOT_HELD, {"subscriber": subscriber_id, "since": since})
    return bool(held)


def throttle_cutoff(now: datetime, minutes: float) -> datetime:
    return now - timedelta(minutes=minutes)


SUBSCRIBERS = cast(Table, Subscriber.__table__)
TOPICS = cast(Table, Topic.__table__)
_CLAIMED = (
    select(TABLE.c.id, TABLE.c.subscriber_id, TABLE.c.kind, TABLE.c.attempts, TABLE.c.created_at,
           SUBSCRIBERS.c.email, SUBSCRIBERS.c.status, SUBSCRIBERS.c.token_nonce,
           SUBSCRIBERS.c.frequency, SUBSCRIBERS.c.send_hour, SUBSCRIBERS.c.timezone)
    .join(SUBSCRIBERS, SUBSCRIBERS.c.id == TABLE.c.subscriber_id)
    .where(TABLE.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(TABLE.c.id)
)
_LABELS = (
    select(TOPICS.c.subscriber_id, TOPICS.c.label)
    .where(TOPICS.c.subscriber_id.in_(bindparam("subscribers", expanding=True)))
    .order_by(TOPICS.c.subscriber_id, TOPICS.c.position)
)


def claim_account_emails(
    db: Database, *, owner: str, lease_seconds: float, now: datetime, limit: int
) -> tuple[list[AccountClaim], int]:
    """Lease due account emails (oldest first); those no longer wanted become suppressed.

    A confirm email is not wanted once the address is confirmed; the others only go to active
    subscribers. Returns the claims and how many rows were suppressed.
    """
    pick = (
        select(Delivery.id)
        .where(Delivery.edition_id.is_(None), Delivery.status == S.PENDING,
               Delivery.next_attempt_at <= now)
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    with db.session() as session:
        ids = session.scalars(
            update(Delivery)
            .where(Delivery.id.in_(pick.scalar_subquery()))
            .values(status=S.SENDING, lease_owner=owner,
                    lease_expires_at=now + timedelta(seconds=lease_seconds))
            .returning(Delivery.id),
            execution_options={"synchronize_session": False},
        ).all()
        if not ids:
            return [], 0
        conn = session.connection()
        rows = conn.execute(_CLAIMED, {"ids": ids}).all()
        labels: defaultdict[int, list[str]] = defaultdict(list)
        subscribers = list({row.subscriber_id for row in rows})
        for subscriber_id, label in conn.execute(_LABELS, {"subscribers": subscribers}):
            labels[subscriber_id].append(label)
        claimed, gone = [], []
        for row in rows:
            active = row.status is SubscriberStatus.ACTIVE
            if active == (row.kind is K.CONFIRM):
                gone.append({"b_id": row.id, "b_reply": f"not sent: subscriber is {row.status}"})
                continue
            recipient = Recipient(
                row.subscriber_id, row.email, row.status, row.token_nonce, row.frequency,
                row.send_hour, row.timezone, tuple(labels[row.subscriber_id]),
            )
            claimed.append(AccountClaim(
                row.id, row.subscriber_id, row.kind, row.attempts, as_utc(row.created_at),
                recipient,
            ))
        suppress_claimed(session, gone, now)
        return claimed, len(gone)
