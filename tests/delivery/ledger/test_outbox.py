"""The outbox's throttle rule: emails sent (or still to be sent) hold an address's slot."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from newsletter.delivery.ledger.outbox import notice_holds_slot, queue_account_email
from newsletter.store.database import Database
from newsletter.store.models import Delivery, DeliveryKind, DeliveryStatus, SubscriberStatus
from tests.delivery.helpers import NOW, add_subscriber

S = DeliveryStatus
LATER = NOW + timedelta(minutes=11)  # the interval (10 minutes) has passed


@pytest.mark.parametrize(
    ("status", "at", "held_now", "held_later"),
    [
        (S.PENDING, None, True, True),  # will still go out: never a second one
        (S.SENDING, None, True, True),
        (S.SENT, NOW, True, False),
        (S.AMBIGUOUS, NOW, True, False),  # most likely arrived: counts as sent when tried
        (S.FAILED, NOW, False, False),  # a refused email frees the slot at once
        (S.SUPPRESSED, NOW, False, False),
    ],
)
def test_which_emails_hold_the_slot(
    db: Database, status: DeliveryStatus, at: object, held_now: bool, held_later: bool
) -> None:
    subscriber = add_subscriber(db, "a@example.org", status=SubscriberStatus.PENDING)
    with db.session() as session:
        queue_account_email(session, subscriber, DeliveryKind.CONFIRM, now=NOW)
        session.execute(update(Delivery).values(status=status, sent_at=at, last_attempt_at=at))
    with db.session() as session:
        assert notice_holds_slot(session, subscriber, since=NOW - timedelta(minutes=10)) is held_now
        assert notice_holds_slot(session, subscriber, since=LATER - timedelta(minutes=10)) is (
            held_later
        )


def test_other_account_emails_do_not_hold_it(db: Database) -> None:
    subscriber = add_subscriber(db, "a@example.org")
    with db.session() as session:
        queue_account_email(session, subscriber, DeliveryKind.WELCOME, now=NOW)
        queue_account_email(session, subscriber, DeliveryKind.PREFERENCES_CHANGED, now=NOW)
    with db.session() as session:
        assert not notice_holds_slot(session, subscriber, since=NOW - timedelta(minutes=10))
