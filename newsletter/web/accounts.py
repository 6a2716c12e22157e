"""The database side of the public pages: sign up, confirm, change, export, erase, leave.

Plain synchronous functions (routes call them in the threadpool) that take ``now`` and return
detached ORM objects. Races are settled by the database: the unique email, a row lock before the
throttle check, and a conditional UPDATE on the confirm nonce. Every change that earns an email
queues it in its own transaction (the ledger's outbox), so the email exists exactly when the
change does.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, selectinload

from newsletter.config import Settings
from newsletter.delivery.ledger.outbox import (
    notice_holds_slot,
    queue_account_email,
    throttle_cutoff,
)
from newsletter.preferences import TopicSpec
from newsletter.store.database import Database
from newsletter.store.models import (
    Delivery,
    DeliveryKind,
    Edition,
    InboundMessage,
    Subscriber,
    SubscriberStatus,
    Topic,
)
from newsletter.store.subscribers import new_nonce, stop_mail, topic_rows
from newsletter.store.verdicts import verdicts_of
from newsletter.tokens import Claims, Purpose, matches
from newsletter.web.forms import Choices

SUBSCRIBERS = cast(Table, Subscriber.__table__)
TOPICS = cast(Table, Topic.__table__)


class LinkProblem(enum.Enum):
    GONE = "gone"  # the subscriber was erased, or the link was never theirs
    USED = "used"  # a confirm link whose nonce was rotated by an earlier confirmation


class LinkError(Exception):
    def __init__(self, problem: LinkProblem) -> None:
        self.problem = problem
        super().__init__(problem.value)


def _load(session: Session, subscriber_id: int) -> Subscriber | None:
    return session.get(Subscriber, subscriber_id, options=[selectinload(Subscriber.topics)])


def _by_email(session: Session, email: str) -> Subscriber | None:
    return session.scalar(
        select(Subscriber).where(Subscriber.email == email).options(selectinload(Subscriber.topics))
    )


# --- sign up ------------------------------------------------------------------------------------
# The sign-up's statements, built once: building an INSERT with ``.values()`` on every request
# was 5% of the service's CPU under load (py-spy). Their values are bound at execution.
_NEW_SUBSCRIBER = {
    "postgresql": postgresql_insert(SUBSCRIBERS)
    .on_conflict_do_nothing(index_elements=["email"])
    .returning(SUBSCRIBERS.c.id),
    "sqlite": sqlite_insert(SUBSCRIBERS)
    .on_conflict_do_nothing(index_elements=["email"])
    .returning(SUBSCRIBERS.c.id),
}
_NEW_TOPICS = insert(TOPICS)
# Finds the address and locks its row in one statement (a row lock on PostgreSQL, the write
# lock on SQLite); the no-op SET is only there to take the lock.
_LOCK_ADDRESS = (
    update(SUBSCRIBERS)
    .where(SUBSCRIBERS.c.email == bindparam("address"))
    .values(last_confirmation_sent_at=SUBSCRIBERS.c.last_confirmation_sent_at)
    .returning(SUBSCRIBERS.c.id)
)


def request_subscription(
    db: Database, settings: Settings, email: str, choices: Choices, *, now: datetime
) -> DeliveryKind | None:
    """Record a sign-up and queue the email it earns in the same transaction; return its kind,
    or None when the address's throttle slot is held. ``email`` is normalized already
    (``forms.check_email``): validating it twice cost 5% of a sign-up.

    One transaction on one pooled connection, Core statements on the session's connection (the
    ORM's unit of work cost a quarter of the service's CPU under load, py-spy). A new address
    takes three statements: the pending subscriber (``ON CONFLICT DO NOTHING`` on the unique
    email), their topics and the confirm email. When the insert finds the address taken, the
    same transaction goes on to the existing-address path: under READ COMMITTED its next
    statement sees the row that won, so two concurrent posts of one new address make one row,
    and the throttle stops the second.
    """
    with db.session() as session:
        conn = session.connection()
        subscriber_id = conn.scalar(_NEW_SUBSCRIBER[conn.dialect.name], {
            "email": email, "status": SubscriberStatus.PENDING,
            "frequency": choices.frequency, "send_hour": choices.send_hour,
            "timezone": choices.timezone, "digest_size": settings.digest_size,
            "always_send": False, "hard_bounces": 0, "token_nonce": new_nonce(),
            "origin": "web", "created_at": now, "last_confirmation_sent_at": now,
        })
        if subscriber_id is None:
            return _existing_address(session, settings, email, choices, now=now)
        conn.execute(_NEW_TOPICS, [
            {"subscriber_id": subscriber_id, "position": i, "label": spec.label,
             "keywords": list(spec.keywords), "authors": list(spec.authors),
             "excluded": list(spec.excluded), "description": spec.description}
            for i, spec in enumerate(choices.topics)
        ])
        queue_account_email(session, subscriber_id, DeliveryKind.CONFIRM, now=now)
    return DeliveryKind.CONFIRM


def _existing_address(
    session: Session, settings: Settings, email: str, choices: Choices, *, now: datetime
) -> DeliveryKind | None:
    """A known address gets one confirm (or, once active, "manage") email per interval.

    The throttle counts emails that were sent or will be (see ``outbox.notice_holds_slot``):
    one that failed frees the slot. The subscriber row is locked first, so a concurrent post of
    the same address waits and then sees the email this one queued.
    """
    since = throttle_cutoff(now, settings.confirm_email_interval_minutes)
    subscriber_id = session.connection().scalar(_LOCK_ADDRESS, {"address": email})
    if subscriber_id is None:  # erased between our two statements: nothing sensible to do
        return None
    if notice_holds_slot(session, subscriber_id, since=since):
        return None
    subscriber = _load(session, subscriber_id)
    if subscriber is None:
        return None
    kind = DeliveryKind.CONFIRM
    if subscriber.status is SubscriberStatus.ACTIVE:
        kind = DeliveryKind.MANAGE
    else:  # not confirmed (or left earlier): the newest form is what they will confirm
        _apply_choices(subscriber, choices)
    subscriber.last_confirmation_sent_at = now
    session.flush()
    queue_account_email(session, subscriber_id, kind, now=now)
    return kind


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _apply_choices(subscriber: Subscriber, choices: Choices) -> None:
    kept = {t.label.casefold(): t for t in subscriber.topics}
    specs = []
    for spec in choices.topics:
        old = kept.get(spec.label.casefold())
        if old is not None and not spec.authors and not spec.excluded:
            # The form edits labels, keywords and descriptions (a ticked catalog topic brings
            # its own); keep authors and exclusions set elsewhere.
            spec = TopicSpec(
                spec.label, spec.keywords, tuple(old.authors), tuple(old.excluded), spec.description
            )
        specs.append(spec)
    subscriber.topics = topic_rows(specs)
    subscriber.frequency = choices.frequency
    subscriber.send_hour = choices.send_hour
    subscriber.timezone = choices.timezone


# --- links --------------------------------------------------------------------------------------
def subscriber_for(db: Database, purpose: Purpose, claims: Claims) -> Subscriber:
    """The subscriber a verified token names, or LinkError when it no longer applies."""
    with db.session() as session:
        subscriber = _load(session, claims.subscriber_id)
    if subscriber is None:
        raise LinkError(LinkProblem.GONE)
    if not matches(purpose, claims, subscriber):
        raise LinkError(LinkProblem.USED if purpose is Purpose.CONFIRM else LinkProblem.GONE)
    return subscriber


def confirm(db: Database, claims: Claims, *, now: datetime) -> Subscriber:
    """Activate once: the UPDATE only matches while the link's nonce is current."""
    with db.session() as session:
        subscriber = _load(session, claims.subscriber_id)
        if subscriber is None:
            raise LinkError(LinkProblem.GONE)
        done = session.execute(
            update(Subscriber)
            .where(Subscriber.id == subscriber.id, Subscriber.token_nonce == claims.check)
            .values(
                status=SubscriberStatus.ACTIVE,
                confirmed_at=now,
                unsubscribed_at=None,
                hard_bounces=0,
                token_nonce=new_nonce(),
            )
            .execution_options(synchronize_session=False)
        )
        if _rowcount(done) != 1:
            # Used already (or a newer link replaced it): a spent link grants nothing more.
            raise LinkError(LinkProblem.USED)
        queue_account_email(session, subscriber.id, DeliveryKind.WELCOME, now=now)
        session.refresh(subscriber)
        _ = subscriber.topics
    return subscriber


# --- leave --------------------------------------------------------------------------------------
def unsubscribe(db: Database, subscriber_id: int, *, now: datetime) -> bool:
    """Stop all mail now; True if this call changed anything (it is safe to repeat)."""
    with db.session() as session:
        return stop_mail(session, subscriber_id, SubscriberStatus.UNSUBSCRIBED, now=now)


# --- preferences --------------------------------------------------------------------------------
def save_preferences(
    db: Database, subscriber_id: int, choices: Choices, *, now: datetime
) -> Subscriber:
    """Save the new choices and queue the email that confirms them, in one transaction."""
    with db.session() as session:
        subscriber = _load(session, subscriber_id)
        if subscriber is None:
            raise LinkError(LinkProblem.GONE)
        _apply_choices(subscriber, choices)
        session.flush()
        queue_account_email(session, subscriber_id, DeliveryKind.PREFERENCES_CHANGED, now=now)
        session.refresh(subscriber)
        _ = subscriber.topics
    return subscriber


def erase(db: Database, subscriber_id: int) -> bool:
    """Delete the subscriber; topics, deliveries and verdicts go with it (ON DELETE CASCADE)."""
    with db.session() as session:
        subscriber = session.get(Subscriber, subscriber_id)
        if subscriber is None:
            return False
        session.delete(subscriber)
    return True


def export_data(db: Database, subscriber_id: int) -> dict[str, Any]:
    """Everything we hold about one person, as they could ask for it (GDPR art. 15/20)."""
    with db.session() as session:
        subscriber = _load(session, subscriber_id)
        if subscriber is None:
            raise LinkError(LinkProblem.GONE)
        # Account emails (confirm, welcome, ...) belong to no edition: an outer join keeps them.
        rows = session.execute(
            select(Delivery, Edition)
            .outerjoin(Edition, Edition.id == Delivery.edition_id)
            .where(Delivery.subscriber_id == subscriber_id)
            .order_by(Delivery.created_at, Delivery.id)
        ).all()
        inbound = session.scalars(
            select(InboundMessage)
            .where(InboundMessage.subscriber_id == subscriber_id)
            .order_by(InboundMessage.received_at, InboundMessage.id)
        ).all()
        return {
            "subscriber": _subscriber_fields(subscriber),
            "topics": [
                {
                    "label": t.label,
                    "keywords": list(t.keywords),
                    "authors": list(t.authors),
                    "excluded": list(t.excluded),
                }
                for t in subscriber.topics
            ],
            "deliveries": [_delivery_fields(d, e) for d, e in rows],
            "verdicts": [
                {
                    "paper": {"title": v.title, "arxiv_id": v.arxiv_id, "url": v.url},
                    "verdict": v.verdict.value,
                    "topic": v.topic,
                    "created_at": _iso(v.created_at),
                }
                for v in verdicts_of(session, subscriber_id)
            ],
            # What came back from their address (bounces, complaints, unsubscribe mails) and
            # what it did: it decided their status, so it is theirs to see.
            "inbound": [
                {
                    "received_at": _iso(m.received_at),
                    "source": m.source,
                    "kind": m.kind.value,
                    "status": m.status,
                    "detail": m.detail,
                }
                for m in inbound
            ],
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _subscriber_fields(s: Subscriber) -> dict[str, Any]:
    return {
        "email": s.email,
        "status": s.status.value,
        "frequency": s.frequency.value,
        "send_hour": s.send_hour,
        "timezone": s.timezone,
        "digest_size": s.digest_size,
        "always_send": s.always_send,
        "origin": s.origin,
        "hard_bounces": s.hard_bounces,
        "created_at": _iso(s.created_at),
        "confirmed_at": _iso(s.confirmed_at),
        "unsubscribed_at": _iso(s.unsubscribed_at),
        "last_confirmation_sent_at": _iso(s.last_confirmation_sent_at),
    }


def _delivery_fields(d: Delivery, e: Edition | None) -> dict[str, Any]:
    edition = None
    if e is not None:
        edition = {"frequency": e.frequency.value, "issue_date": e.issue_date.isoformat()}
    return {
        "kind": d.kind.value,
        "edition": edition,
        "status": d.status.value,
        "paper_ids": list(d.paper_ids),
        "created_at": _iso(d.created_at),
        "sent_at": _iso(d.sent_at),
        "message_id": d.message_id,
    }
