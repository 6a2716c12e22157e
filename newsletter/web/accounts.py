"""The database side of the public pages: sign up, confirm, change, export, erase, leave.

Plain synchronous functions (routes call them in the threadpool) that take ``now`` and return
detached ORM objects. Races are settled by the database: the unique email, a conditional UPDATE
on ``last_confirmation_sent_at``, and a conditional UPDATE on the confirm nonce.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from newsletter.config import Settings
from newsletter.preferences import TopicSpec
from newsletter.store.database import Database
from newsletter.store.models import (
    Delivery,
    DeliveryStatus,
    Edition,
    Subscriber,
    SubscriberStatus,
)
from newsletter.store.subscribers import create_subscriber, new_nonce, topic_rows
from newsletter.store.verdicts import verdicts_of
from newsletter.tokens import Claims, Purpose, matches
from newsletter.web.forms import Choices


class NoticeKind(enum.StrEnum):
    CONFIRM = "confirm"
    MANAGE = "manage"


@dataclass(frozen=True)
class Notice:
    """An email the sign-up earned: who gets it and the throttle slot it took."""

    kind: NoticeKind
    subscriber: Subscriber
    claimed_at: datetime


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
def request_subscription(
    db: Database, settings: Settings, email: str, choices: Choices, *, now: datetime
) -> Notice | None:
    """Record a sign-up; return the email to send, or None when the address was mailed recently.

    New address: a pending row whose first throttle slot is taken in the same INSERT. Two
    concurrent posts of one new address both try the INSERT; the unique email lets one win and
    the other falls through to the existing-address path, where the throttle stops it.
    """
    with db.session() as session:
        known = _by_email(session, email) is not None
    if not known:
        try:
            return _insert_pending(db, settings, email, choices, now=now)
        except IntegrityError:
            pass
    return _existing_address(db, settings, email, choices, now=now)


def _insert_pending(
    db: Database, settings: Settings, email: str, choices: Choices, *, now: datetime
) -> Notice:
    with db.session() as session:
        subscriber = create_subscriber(
            session,
            email,
            choices.topics,
            now=now,
            status=SubscriberStatus.PENDING,
            frequency=choices.frequency,
            send_hour=choices.send_hour,
            timezone=choices.timezone,
            digest_size=settings.digest_size,
            origin="web",
        )
        subscriber.last_confirmation_sent_at = now
        session.flush()
    return Notice(NoticeKind.CONFIRM, subscriber, now)


def _existing_address(
    db: Database, settings: Settings, email: str, choices: Choices, *, now: datetime
) -> Notice | None:
    cutoff = now - timedelta(minutes=settings.confirm_email_interval_minutes)
    with db.session() as session:
        subscriber = _by_email(session, email)
        if subscriber is None:  # erased between our two reads: nothing sensible to do
            return None
        claimed = session.execute(
            update(Subscriber)
            .where(Subscriber.id == subscriber.id)
            .where(
                or_(
                    Subscriber.last_confirmation_sent_at.is_(None),
                    Subscriber.last_confirmation_sent_at <= cutoff,
                )
            )
            .values(last_confirmation_sent_at=now)
            .execution_options(synchronize_session=False)
        )
        if _rowcount(claimed) != 1:
            return None
        if subscriber.status is SubscriberStatus.ACTIVE:
            return Notice(NoticeKind.MANAGE, subscriber, now)
        # Not confirmed (or left earlier): the newest form is what they will confirm.
        _apply_choices(subscriber, choices)
        session.flush()
        return Notice(NoticeKind.CONFIRM, subscriber, now)


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def release_claim(db: Database, subscriber_id: int, claimed_at: datetime) -> None:
    """The email could not be sent: free the throttle slot so the person can simply retry."""
    with db.session() as session:
        session.execute(
            update(Subscriber)
            .where(Subscriber.id == subscriber_id)
            .where(Subscriber.last_confirmation_sent_at == claimed_at)
            .values(last_confirmation_sent_at=None)
            .execution_options(synchronize_session=False)
        )


def _apply_choices(subscriber: Subscriber, choices: Choices) -> None:
    kept = {t.label.casefold(): t for t in subscriber.topics}
    specs = []
    for spec in choices.topics:
        old = kept.get(spec.label.casefold())
        if old is not None and not spec.authors and not spec.excluded:
            # The form edits labels and keywords only; keep authors and exclusions set elsewhere.
            spec = TopicSpec(
                spec.label,
                spec.keywords,
                tuple(old.authors),
                tuple(old.excluded),
                spec.description or old.description,
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
        newly = _rowcount(done) == 1
        session.refresh(subscriber)
        _ = subscriber.topics
    if not newly:
        # Used already (or a newer link replaced it): a spent link grants nothing more.
        raise LinkError(LinkProblem.USED)
    return subscriber


# --- leave --------------------------------------------------------------------------------------
def unsubscribe(db: Database, subscriber_id: int, *, now: datetime) -> bool:
    """Stop all mail now; True if this call changed anything (it is safe to repeat)."""
    with db.session() as session:
        changed = session.execute(
            update(Subscriber)
            .where(Subscriber.id == subscriber_id)
            .where(Subscriber.status != SubscriberStatus.UNSUBSCRIBED)
            .values(status=SubscriberStatus.UNSUBSCRIBED, unsubscribed_at=now)
            .execution_options(synchronize_session=False)
        )
        # The sender re-checks status when it claims; this also keeps the ledger honest.
        session.execute(
            update(Delivery)
            .where(Delivery.subscriber_id == subscriber_id)
            .where(Delivery.status == DeliveryStatus.PENDING)
            .values(status=DeliveryStatus.SUPPRESSED, last_reply="unsubscribed")
            .execution_options(synchronize_session=False)
        )
    return _rowcount(changed) == 1


# --- preferences --------------------------------------------------------------------------------
def save_preferences(db: Database, subscriber_id: int, choices: Choices) -> Subscriber:
    with db.session() as session:
        subscriber = _load(session, subscriber_id)
        if subscriber is None:
            raise LinkError(LinkProblem.GONE)
        _apply_choices(subscriber, choices)
        session.flush()
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
        rows = session.execute(
            select(Delivery, Edition)
            .join(Edition, Edition.id == Delivery.edition_id)
            .where(Delivery.subscriber_id == subscriber_id)
            .order_by(Delivery.created_at)
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


def _delivery_fields(d: Delivery, e: Edition) -> dict[str, Any]:
    return {
        "edition": {"frequency": e.frequency.value, "issue_date": e.issue_date.isoformat()},
        "status": d.status.value,
        "paper_ids": list(d.paper_ids),
        "created_at": _iso(d.created_at),
        "sent_at": _iso(d.sent_at),
        "message_id": d.message_id,
    }
