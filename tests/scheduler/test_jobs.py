"""The edition job against a real database: who gets built, once, at their own hour."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from newsletter.config import Settings
from newsletter.preferences import TopicSpec
from newsletter.scheduler.due import Issue
from newsletter.scheduler.jobs import find_due, queue_first_digest, run_editions
from newsletter.sources.runner import ingest_sample
from newsletter.store.database import Database
from newsletter.store.models import Delivery, Edition, Frequency, SubscriberStatus
from newsletter.store.subscribers import create_subscriber

NOW = datetime(2026, 11, 24, 6, 30, tzinfo=UTC)  # a Tuesday


@pytest.fixture
def settings(make_settings: Callable[..., Settings], db: Database) -> Settings:
    return make_settings(database_url=db.url, weekly_send_weekday=1)


def _add(
    db: Database,
    email: str,
    zone: str,
    hour: int,
    *,
    frequency: Frequency = Frequency.DAILY,
    status: SubscriberStatus = SubscriberStatus.ACTIVE,
) -> int:
    with db.session() as session:
        return create_subscriber(
            session,
            email,
            [TopicSpec.build("reasoning", "chain-of-thought, math reasoning")],
            now=NOW - timedelta(days=3),
            status=status,
            frequency=frequency,
            send_hour=hour,
            timezone=zone,
            always_send=True,
        ).id


def _deliveries(db: Database) -> set[tuple[int, Frequency, date]]:
    with db.session() as session:
        rows = session.execute(
            select(Delivery.subscriber_id, Edition.frequency, Edition.issue_date).join(
                Edition, Edition.id == Delivery.edition_id
            )
        ).all()
    return {(r[0], r[1], r[2]) for r in rows}


def test_editions_are_built_for_due_subscribers_once(db: Database, settings: Settings) -> None:
    ingest_sample(db, now=NOW - timedelta(hours=1))
    paris = _add(db, "paris@example.org", "Europe/Paris", 7)  # 07:30 local: due
    tokyo = _add(db, "tokyo@example.org", "Asia/Tokyo", 9)  # 15:30 local: due
    utc = _add(db, "utc@example.org", "UTC", 7)  # 06:30: not yet
    la = _add(db, "la@example.org", "America/Los_Angeles", 22)  # 22:30 on the 23rd: due
    weekly = _add(db, "weekly@example.org", "UTC", 6, frequency=Frequency.WEEKLY)  # Tuesday
    _add(db, "pending@example.org", "UTC", 0, status=SubscriberStatus.PENDING)
    _add(db, "gone@example.org", "UTC", 0, status=SubscriberStatus.UNSUBSCRIBED)

    due = find_due(db, settings, NOW)
    assert due == {
        Issue(Frequency.DAILY, date(2026, 11, 23)): [la],
        Issue(Frequency.DAILY, date(2026, 11, 24)): [paris, tokyo],
        Issue(Frequency.WEEKLY, date(2026, 11, 24)): [weekly],
    }
    run_editions(db, settings, NOW)
    built = _deliveries(db)
    assert built == {
        (la, Frequency.DAILY, date(2026, 11, 23)),
        (paris, Frequency.DAILY, date(2026, 11, 24)),
        (tokyo, Frequency.DAILY, date(2026, 11, 24)),
        (weekly, Frequency.WEEKLY, date(2026, 11, 24)),
    }
    # Running again (every few minutes) changes nothing.
    assert find_due(db, settings, NOW + timedelta(minutes=5)) == {}
    run_editions(db, settings, NOW + timedelta(minutes=5))
    assert _deliveries(db) == built
    # An hour later the UTC subscriber's hour has come.
    run_editions(db, settings, NOW + timedelta(hours=1))
    assert _deliveries(db) - built == {(utc, Frequency.DAILY, date(2026, 11, 24))}


def test_first_digest_can_be_queued_at_once(db: Database, settings: Settings) -> None:
    ingest_sample(db, now=NOW - timedelta(hours=1))
    late = _add(db, "late@example.org", "UTC", 23)
    queue_first_digest(db, settings, late, NOW)
    assert _deliveries(db) == {(late, Frequency.DAILY, date(2026, 11, 24))}
    # When the hour comes, the scheduler sees the edition is already theirs.
    assert find_due(db, settings, NOW.replace(hour=23)) == {}
