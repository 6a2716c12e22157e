"""Subscribers with sent deliveries, written straight to the store, for inbound tests."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from newsletter.config import Settings
from newsletter.store.database import Database
from newsletter.store.models import (
    Delivery,
    DeliveryStatus,
    Edition,
    Frequency,
    InboundMessage,
    Subscriber,
)
from newsletter.tokens import Purpose, make_token
from tests.delivery.helpers import NOW, add_subscriber


def sent_deliveries(db: Database, email: str, editions: int = 1) -> tuple[int, list[int]]:
    """A subscriber and one sent delivery in each of ``editions`` daily editions."""
    subscriber_id = add_subscriber(db, email)
    ids = []
    with db.session() as session:
        for n in range(editions):
            issue = date(2024, 5, 1) + timedelta(days=n)
            edition = session.scalar(select(Edition).where(Edition.issue_date == issue))
            if edition is None:
                edition = Edition(frequency=Frequency.DAILY, issue_date=issue, created_at=NOW)
                session.add(edition)
                session.flush()
            delivery = Delivery(edition_id=edition.id, subscriber_id=subscriber_id,
                                status=DeliveryStatus.SENT, paper_ids=[1], created_at=NOW,
                                attempts=1, sent_at=NOW)
            session.add(delivery)
            session.flush()
            ids.append(delivery.id)
    return subscriber_id, ids


def unsubscribe_token(db: Database, settings: Settings, subscriber_id: int) -> str:
    with db.session() as session:
        subscriber = session.get(Subscriber, subscriber_id)
        assert subscriber is not None
        return make_token(settings, Purpose.UNSUBSCRIBE, subscriber)


def subscriber(db: Database, subscriber_id: int) -> Subscriber:
    with db.session() as session:
        found = session.get(Subscriber, subscriber_id)
        assert found is not None
        session.expunge(found)
        return found


def records(db: Database) -> list[InboundMessage]:
    with db.session() as session:
        rows = list(session.scalars(select(InboundMessage).order_by(InboundMessage.id)))
        session.expunge_all()
        return rows
