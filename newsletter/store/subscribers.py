"""Subscriber records: add, find, list, remove. CSV import/export lives in ``store/roster.py``."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from newsletter.errors import InvalidInput, NotFound
from newsletter.preferences import TopicSpec
from newsletter.store.models import Frequency, Subscriber, SubscriberStatus, Topic, Verdict
from newsletter.store.verdicts import Judged


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


def with_verdicts(specs: Sequence[TopicSpec], judged: Sequence[Judged]) -> list[TopicSpec]:
    """Each topic with the reader's verdicts on it as liked / disliked examples.

    A verdict names the topic its paper was given for and goes to that topic only. A verdict
    for no topic (an example added on the preferences page for all topics) or for a topic the
    reader has since renamed or removed goes to every topic: the taste it states is the
    reader's, whatever the topic is now called.
    """
    if not judged:
        return list(specs)
    labels = {spec.label for spec in specs}
    out = []
    for spec in specs:
        mine = [j for j in judged if j.topic == spec.label or j.topic not in labels]
        liked = tuple(j.example for j in mine if j.verdict is Verdict.LIKE)
        disliked = tuple(j.example for j in mine if j.verdict is Verdict.DISLIKE)
        out.append(replace(spec, liked=liked, disliked=disliked) if mine else spec)
    return out
