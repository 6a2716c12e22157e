"""Subscriber records: add, find, list, remove. CSV import/export lives in ``store/roster.py``."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from newsletter.errors import InvalidInput, NotFound
from newsletter.preferences import TopicSpec
from newsletter.store.models import (
    Delivery,
    DeliveryStatus,
    Frequency,
    Subscriber,
    SubscriberStatus,
    Topic,
)


def normalize_email(address: str) -> str:
    """The canonical form we key on; email-validator's reason becomes the error text.

    Deliverability (DNS) is not checked: the service must work offline and the confirmation
    email is the real check.
    """
    if any(c in address for c in "\r\n"):
        raise InvalidInput("an email address cannot contain line breaks", where="email")
    try:
        result = validate_email(address.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput(str(exc), where="email") from None
    return result.normalized.lower()


def new_nonce() -> str:
    return secrets.token_hex(8)


def topic_rows(specs: Sequence[TopicSpec]) -> list[Topic]:
    return [
        Topic(
            position=i,
            label=s.label,
            keywords=list(s.keywords),
            authors=list(s.authors),
            excluded=list(s.excluded),
            description=s.description,
        )
        for i, s in enumerate(specs)
    ]


def topic_specs(subscriber: Subscriber) -> list[TopicSpec]:
    return [
        TopicSpec(t.label, tuple(t.keywords), tuple(t.authors), tuple(t.excluded), t.description)
        for t in subscriber.topics
    ]


def create_subscriber(
    session: Session,
    email: str,
    topics: Sequence[TopicSpec],
    *,
    now: datetime,
    status: SubscriberStatus = SubscriberStatus.ACTIVE,
    frequency: Frequency = Frequency.DAILY,
    send_hour: int = 7,
    timezone: str = "UTC",
    digest_size: int = 10,
    always_send: bool = False,
    origin: str = "cli",
) -> Subscriber:
    """Insert a new subscriber; the unique email constraint is the final word on duplicates."""
    subscriber = Subscriber(
        email=normalize_email(email),
        status=status,
        frequency=frequency,
        send_hour=send_hour,
        timezone=timezone,
        digest_size=digest_size,
        always_send=always_send,
        hard_bounces=0,
        token_nonce=new_nonce(),
        origin=origin,
        created_at=now,
        confirmed_at=now if status is SubscriberStatus.ACTIVE else None,
        topics=topic_rows(topics),
    )
    session.add(subscriber)
    session.flush()
    return subscriber


def find_subscriber(session: Session, email: str) -> Subscriber | None:
    return session.scalar(
        select(Subscriber)
        .where(Subscriber.email == normalize_email(email))
        .options(selectinload(Subscriber.topics))
    )


def get_subscriber(session: Session, email: str) -> Subscriber:
    subscriber = find_subscriber(session, email)
    if subscriber is None:
        raise NotFound(f"no subscriber with address {email}")
    return subscriber


def list_subscribers(
    session: Session, status: SubscriberStatus | None = None, limit: int | None = None
) -> Sequence[Subscriber]:
    query = select(Subscriber).options(selectinload(Subscriber.topics)).order_by(Subscriber.id)
    if status is not None:
        query = query.where(Subscriber.status == status)
    if limit is not None:
        query = query.limit(limit)
    return session.scalars(query).all()


def remove_subscriber(session: Session, email: str) -> None:
    """Erase a subscriber and, by cascade, their topics and deliveries."""
    session.delete(get_subscriber(session, email))


def stop_mail(
    session: Session, subscriber_id: int, status: SubscriberStatus, *, now: datetime
) -> bool:
    """No more mail to this subscriber (``unsubscribed`` or ``bounced``), and their queued
    deliveries suppressed; True if this call changed the status (it is safe to repeat).

    An unsubscribe wins over a bounce: a bounced address that later asks to leave is marked as
    having left, but a bounce never turns an unsubscribe back into something else.
    """
    query = update(Subscriber).where(Subscriber.id == subscriber_id)
    if status is SubscriberStatus.UNSUBSCRIBED:
        query = query.where(Subscriber.status != SubscriberStatus.UNSUBSCRIBED).values(
            status=status, unsubscribed_at=now
        )
    else:
        query = query.where(
            Subscriber.status.in_([SubscriberStatus.ACTIVE, SubscriberStatus.PENDING])
        ).values(status=status)
    changed = session.execute(query.execution_options(synchronize_session=False))
    # The sender re-checks status when it claims; this also keeps the ledger honest.
    session.execute(
        update(Delivery)
        .where(Delivery.subscriber_id == subscriber_id)
        .where(Delivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.SUPPRESSED, last_reply=status.value)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(changed, "rowcount", 0) or 0) == 1
