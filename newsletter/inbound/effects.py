"""What a :class:`~newsletter.inbound.decide.Decision` does to the store, in one transaction.

The record of the message and its effect are written together, and the record's unique
fingerprint makes the whole thing idempotent: the same message handled twice (an MTA that
redelivers after a timeout, an IMAP poll that ran before its flags were saved) changes nothing
the second time.

* unsubscribe and complaint: the subscriber is unsubscribed, queued deliveries suppressed;
* hard bounce: the address is suppressed at once (status ``bounced``);
* soft bounce: one more failure through the same update the sender uses for permanent SMTP
  failures, suppressed at ``NEWSLETTER_DELIVERY_HARD_BOUNCE_LIMIT``; at least as many as the
  soft bounces of the last two weeks (``failures.SOFT_BOUNCE_MEMORY``), since every accepted
  send resets that count.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.delivery.failures import SOFT_BOUNCE_MEMORY
from newsletter.delivery.ledger.outcomes import count_bounces
from newsletter.inbound.decide import Decision
from newsletter.store.database import Database
from newsletter.store.models import (
    Delivery,
    InboundKind,
    InboundMessage,
    Subscriber,
    SubscriberStatus,
)
from newsletter.store.subscribers import stop_mail
from newsletter.tokens import Purpose, matches

K = InboundKind


@dataclass(frozen=True)
class Handled:
    """What one message did: ``duplicate`` when it had been handled before (and did nothing)."""

    kind: InboundKind
    reason: str
    subscriber_id: int | None = None
    delivery_id: int | None = None
    changed: bool = False
    duplicate: bool = False


def fingerprint(recipient: str, raw: bytes) -> str:
    return hashlib.sha256(recipient.lower().encode() + b"\0" + raw).hexdigest()


def _insert(session: Session) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(InboundMessage)
    return sqlite.insert(InboundMessage)


def _subscriber(session: Session, decision: Decision) -> tuple[int | None, int | None, str]:
    """(subscriber id, delivery id, why not) for the person a decision names."""
    if decision.delivery_id is not None:
        owner = session.scalar(
            select(Delivery.subscriber_id).where(Delivery.id == decision.delivery_id)
        )
        if owner is None:
            return None, None, "its delivery no longer exists"
        return owner, decision.delivery_id, ""
    if decision.claims is not None:
        person = session.get(Subscriber, decision.claims.subscriber_id)
        if not matches(Purpose.UNSUBSCRIBE, decision.claims, person) or person is None:
            return None, None, "its token belongs to no current subscriber"
        return person.id, None, ""
    return None, None, ""


def apply(
    db: Database,
    settings: Settings,
    decision: Decision,
    *,
    key: str,
    source: str,
    now: datetime,
) -> Handled:
    """Record the message under ``key`` (see :func:`fingerprint`) and carry out its effect."""
    with db.session() as session:
        subscriber_id, delivery_id, missing = _subscriber(session, decision)
        kind, reason = decision.kind, decision.reason
        if missing and kind is not K.IGNORED:
            kind, reason = K.IGNORED, f"{reason} ({missing})"
        inserted = session.scalar(
            _insert(session)
            .values(
                fingerprint=key, received_at=now, source=source, kind=kind,
                subscriber_id=subscriber_id, delivery_id=delivery_id,
                status=decision.status, detail=reason[:1000],
            )
            .on_conflict_do_nothing(index_elements=["fingerprint"])
            .returning(InboundMessage.id)
        )
        if inserted is None:
            return Handled(kind, reason, subscriber_id, delivery_id, duplicate=True)
        changed = False
        if subscriber_id is not None:
            changed = _effect(session, settings, kind, subscriber_id, now)
    return Handled(kind, reason, subscriber_id, delivery_id, changed=changed)


def _effect(
    session: Session, settings: Settings, kind: InboundKind, subscriber_id: int, now: datetime
) -> bool:
    if kind in (K.UNSUBSCRIBE, K.COMPLAINT):
        return stop_mail(session, subscriber_id, SubscriberStatus.UNSUBSCRIBED, now=now)
    if kind is K.HARD_BOUNCE:
        return stop_mail(session, subscriber_id, SubscriberStatus.BOUNCED, now=now)
    if kind is K.SOFT_BOUNCE:
        recent = session.scalar(
            select(func.count()).select_from(InboundMessage).where(
                InboundMessage.subscriber_id == subscriber_id,
                InboundMessage.kind == K.SOFT_BOUNCE,
                InboundMessage.received_at > now - SOFT_BOUNCE_MEMORY,
            )
        )
        count_bounces(session.connection(), [subscriber_id], settings.delivery_hard_bounce_limit,
                      at_least=int(recent or 0))
        return True
    return False
