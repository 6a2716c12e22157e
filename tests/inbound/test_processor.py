"""The processor over real-format samples, against the real store (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from newsletter.config import Settings
from newsletter.delivery.ledger.outcomes import Outcome, record_outcomes
from newsletter.inbound.processor import Processor
from newsletter.inbound.verp import bounce_address
from newsletter.store.database import Database
from newsletter.store.models import (
    Delivery,
    DeliveryStatus,
    InboundKind,
    SubscriberStatus,
)
from newsletter.store.subscribers import remove_subscriber
from tests.delivery.helpers import add_subscriber
from tests.inbound.conftest import NOW, SENDER
from tests.inbound.helpers import records, sent_deliveries, subscriber, unsubscribe_token
from tests.inbound.samples import sample

K = InboundKind
S = SubscriberStatus


def test_hard_bounce_suppresses_at_once_and_only_once(
    db: Database, config: Settings, processor: Processor,
) -> None:
    reader, (delivery,) = sent_deliveries(db, "no-such-reader@example.org")
    other, _ = sent_deliveries(db, "other@example.org")
    verp = bounce_address(config, delivery)
    raw = sample("postfix_unknown_user.eml", bounce_address=verp)

    handled = processor.handle(raw, [verp], source="lmtp")
    assert (handled.kind, handled.subscriber_id, handled.delivery_id, handled.changed) == (
        K.HARD_BOUNCE, reader, delivery, True)
    assert subscriber(db, reader).status is S.BOUNCED
    assert subscriber(db, other).status is S.ACTIVE

    again = processor.handle(raw, [verp], source="lmtp")
    assert again.duplicate and not again.changed
    (record,) = records(db)
    assert (record.kind, record.subscriber_id, record.delivery_id, record.status,
            record.source) == (K.HARD_BOUNCE, reader, delivery, "5.1.1", "lmtp")


def test_soft_bounces_count_toward_the_limit(
    db: Database, config: Settings, processor: Processor,
) -> None:
    reader, deliveries = sent_deliveries(db, "full@example.net", editions=3)
    for n, delivery in enumerate(deliveries, start=1):
        verp = bounce_address(config, delivery)
        raw = sample("mailbox_full.eml", bounce_address=verp)
        assert processor.handle(raw, [verp], source="imap").kind is K.SOFT_BOUNCE
        processor.handle(raw, [verp], source="imap")  # the same report twice counts once
        state = subscriber(db, reader)
        assert state.hard_bounces == n
        assert state.status is (S.BOUNCED if n == 3 else S.ACTIVE)


def test_soft_bounces_count_across_the_sends_that_reset_the_counter(
    db: Database, config: Settings,
) -> None:
    """Each digest is accepted by the relay (the sender resets the count), then bounces by mail
    with a full mailbox: the third bounce within two weeks still suppresses the address."""
    reader, deliveries = sent_deliveries(db, "full@example.net", editions=4)
    for day, delivery in enumerate(deliveries[:3]):
        at = NOW + timedelta(days=day)
        record_outcomes(db, [Outcome(delivery, reader, DeliveryStatus.SENT, 1, at)],
                        bounce_limit=3)
        assert subscriber(db, reader).hard_bounces == 0
        verp = bounce_address(config, delivery)
        Processor(db, config, clock=lambda at=at: at + timedelta(minutes=5)).handle(
            sample("mailbox_full.eml", bounce_address=verp), [verp], source="lmtp")
    assert subscriber(db, reader).status is S.BOUNCED


def test_soft_bounces_older_than_two_weeks_are_forgotten(db: Database, config: Settings) -> None:
    reader, deliveries = sent_deliveries(db, "full@example.net", editions=3)
    for n, delivery in enumerate(deliveries):
        at = NOW + timedelta(days=15 * n)
        record_outcomes(db, [Outcome(delivery, reader, DeliveryStatus.SENT, 1, at)],
                        bounce_limit=3)
        verp = bounce_address(config, delivery)
        Processor(db, config, clock=lambda at=at: at).handle(
            sample("mailbox_full.eml", bounce_address=verp), [verp], source="lmtp")
    state = subscriber(db, reader)
    assert (state.status, state.hard_bounces) == (S.ACTIVE, 1)


def test_unsubscribe_by_email_and_a_token_of_an_erased_reader(
    db: Database, config: Settings, processor: Processor,
) -> None:
    reader = add_subscriber(db, "leaving@example.org")
    gone = add_subscriber(db, "erased@example.org")
    tokens = {n: unsubscribe_token(db, config, n) for n in (reader, gone)}
    with db.session() as session:
        remove_subscriber(session, "erased@example.org")

    def request(token: str) -> bytes:
        return (f"From: someone@example.org\r\nTo: digest@newsletter.example.org\r\n"
                f"Subject: unsubscribe {token}\r\n\r\n").encode()

    left = processor.handle(request(tokens[reader]), [SENDER], source="lmtp")
    assert (left.kind, left.subscriber_id, left.changed) == (K.UNSUBSCRIBE, reader, True)
    state = subscriber(db, reader)
    assert state.status is S.UNSUBSCRIBED and state.unsubscribed_at is not None

    nobody = processor.handle(request(tokens[gone]), [SENDER], source="lmtp")
    assert nobody.kind is K.IGNORED and "no current subscriber" in nobody.reason


def test_complaint_unsubscribes_and_suppresses_queued_mail(
    db: Database, config: Settings, processor: Processor,
) -> None:
    reader, (sent, queued) = sent_deliveries(db, "reader@example.com", editions=2)
    with db.session() as session:
        row = session.get(Delivery, queued)
        assert row is not None
        row.status = DeliveryStatus.PENDING
    raw = sample("arf_our_digest.eml", bounce_address=bounce_address(config, sent),
                 token=unsubscribe_token(db, config, reader))
    handled = processor.handle(raw, [SENDER], source="imap")
    assert (handled.kind, handled.delivery_id) == (K.COMPLAINT, sent)
    assert subscriber(db, reader).status is S.UNSUBSCRIBED
    with db.session() as session:
        assert session.get(Delivery, queued).status is DeliveryStatus.SUPPRESSED  # type: ignore[union-attr]


def test_auto_replies_and_junk_are_recorded_and_change_nothing(
    db: Database, config: Settings, processor: Processor,
) -> None:
    reader, (delivery,) = sent_deliveries(db, "reader@example.com")
    verp = bounce_address(config, delivery)
    for raw in (sample("vacation.eml", bounce_address=verp), b"\x00\xff garbage",
                sample("rfc3464_delayed.eml", bounce_address=verp)):
        assert processor.handle(raw, [verp], source="lmtp").kind is K.IGNORED
    assert subscriber(db, reader).status is S.ACTIVE
    assert [r.kind for r in records(db)] == [K.IGNORED] * 3


def test_bounce_for_a_deleted_delivery_is_ignored(
    db: Database, config: Settings, processor: Processor,
) -> None:
    verp = bounce_address(config, 987654)
    handled = processor.handle(sample("postfix_unknown_user.eml", bounce_address=verp), [verp],
                               source="lmtp")
    assert handled.kind is K.IGNORED and "no longer exists" in handled.reason
