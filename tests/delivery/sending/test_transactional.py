"""Account emails from the ledger's outbox, through a real SMTP server: priority, retries,
ambiguity, bounces and a Message-ID that stays the same on every attempt."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import select

from newsletter.config import Settings
from newsletter.delivery.editions.build import build_edition
from newsletter.delivery.ledger.claims import Ledger
from newsletter.delivery.ledger.outbox import queue_account_email
from newsletter.inbound.verp import delivery_of
from newsletter.store.database import Database
from newsletter.store.models import (
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Frequency,
    Subscriber,
    SubscriberStatus,
)
from newsletter.tokens import Purpose, read_token
from tests.delivery.conftest import RunSender
from tests.delivery.helpers import NOW, add_papers, add_subscriber
from tests.smtp_server import SmtpServer

S = DeliveryStatus
K = DeliveryKind


def queue(db: Database, subscriber_id: int, kind: DeliveryKind) -> int:
    with db.session() as session:
        queue_account_email(session, subscriber_id, kind, now=NOW)
    with db.session() as session:
        return int(session.scalar(select(Delivery.id).order_by(Delivery.id.desc()).limit(1)) or 0)


def row(db: Database, delivery_id: int) -> Delivery:
    with db.session() as session:
        found = session.get(Delivery, delivery_id)
        assert found is not None
        return found


async def test_account_emails_go_before_an_editions_backlog(
    db: Database, smtp_server: SmtpServer, smtp_settings: Callable[..., Settings],
    run_sender: RunSender,
) -> None:
    settings = smtp_settings(smtp_pool_size=1)
    add_papers(db)
    for n in range(5):
        add_subscriber(db, f"reader{n}@example.org")
    build_edition(db, settings, frequency=Frequency.DAILY, issue_date=date(2024, 5, 1), now=NOW)
    pending = add_subscriber(db, "new@example.org", status=SubscriberStatus.PENDING)
    queue(db, pending, K.CONFIRM)
    summary, _ = await run_sender(settings)
    assert summary.sent == 6
    assert smtp_server.received[0].rcpt_tos == ["new@example.org"]
    # Its return path names its ledger row, so a bounce of the confirmation is tied to it.
    with db.session() as session:
        row = session.scalars(select(Delivery.id).where(Delivery.kind == K.CONFIRM)).one()
    assert delivery_of(settings, smtp_server.received[0].mail_from) == row
    [confirm] = smtp_server.messages_to("new@example.org")
    assert "Confirm" in str(confirm["Subject"]) and confirm["List-Unsubscribe"] is None
    link = next(w for w in confirm.get_body(("plain",)).get_content().split()  # type: ignore[union-attr]
                if "/confirm/" in w)
    claims = read_token(settings, Purpose.CONFIRM, link.rpartition("/")[2], now=NOW)
    assert claims.subscriber_id == pending


async def test_a_temporary_failure_is_retried_on_the_ledgers_schedule(
    db: Database, smtp_server: SmtpServer, smtp_settings: Callable[..., Settings],
    run_sender: RunSender,
) -> None:
    settings = smtp_settings()
    delivery = queue(db, add_subscriber(db, "a@example.org"), K.WELCOME)
    smtp_server.fail_next("RCPT", "451 4.3.0 try again later")
    first, _ = await run_sender(settings)
    assert first.retried == 1 and smtp_server.received == []
    waiting = row(db, delivery)
    assert waiting.status is S.PENDING and waiting.attempts == 1
    assert waiting.next_attempt_at is not None
    again, _ = await run_sender(settings, now=NOW + timedelta(hours=1))
    assert again.sent == 1
    [message] = smtp_server.messages_to("a@example.org")
    assert message["List-Unsubscribe"]
    assert message["Message-ID"] == row(db, delivery).message_id


async def test_ambiguous_account_email_is_resent_with_the_same_message_id(
    db: Database, smtp_server: SmtpServer, smtp_settings: Callable[..., Settings],
    run_sender: RunSender,
) -> None:
    settings = smtp_settings()
    delivery = queue(db, add_subscriber(db, "a@example.org"), K.MANAGE)
    smtp_server.drop_next("DATA")
    first, _ = await run_sender(settings)
    assert first.ambiguous == 1 and row(db, delivery).status is S.AMBIGUOUS
    assert Ledger(db, owner="op", lease_seconds=60).requeue_ambiguous(NOW) == 1
    again, _ = await run_sender(settings, owner="another-process")
    assert again.sent == 1
    one, two = smtp_server.messages_to("a@example.org")
    assert one["Message-ID"] == two["Message-ID"] == row(db, delivery).message_id


async def test_a_hard_bounce_fails_the_email_and_counts_toward_suppression(
    db: Database, smtp_server: SmtpServer, smtp_settings: Callable[..., Settings],
    run_sender: RunSender,
) -> None:
    settings = smtp_settings(delivery_hard_bounce_limit=1)
    subscriber = add_subscriber(db, "gone@example.org")
    delivery = queue(db, subscriber, K.PREFERENCES_CHANGED)
    smtp_server.fail_next("RCPT", "550 5.1.1 no such user")
    summary, _ = await run_sender(settings)
    assert summary.failed == 1 and row(db, delivery).status is S.FAILED
    with db.session() as session:
        person = session.get(Subscriber, subscriber)
        assert person is not None and person.status is SubscriberStatus.BOUNCED


async def test_emails_no_longer_wanted_are_suppressed_not_sent(
    db: Database, smtp_server: SmtpServer, smtp_settings: Callable[..., Settings],
    run_sender: RunSender,
) -> None:
    settings = smtp_settings()
    confirmed = queue(db, add_subscriber(db, "active@example.org"), K.CONFIRM)
    left = queue(db, add_subscriber(db, "left@example.org",
                                     status=SubscriberStatus.UNSUBSCRIBED), K.WELCOME)
    summary, _ = await run_sender(settings)
    assert summary.suppressed == 2 and smtp_server.received == []
    assert row(db, confirmed).status is S.SUPPRESSED and row(db, left).status is S.SUPPRESSED
