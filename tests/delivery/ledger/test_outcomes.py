"""The sender's outcome writer has the effect of :func:`record_outcomes`, however it batches."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select, update

from newsletter.config import Settings
from newsletter.delivery.ledger.claims import Ledger
from newsletter.delivery.ledger.outcomes import Outcome, OutcomeWriter
from newsletter.store.database import Database
from newsletter.store.models import Delivery, DeliveryStatus, Subscriber
from tests.delivery.helpers import NOW
from tests.delivery.ledger.test_claims import queued

S = DeliveryStatus


def test_a_batch_records_every_kind_and_resets_bounces_of_the_delivered(
    db: Database, make_settings: Callable[..., Settings]
) -> None:
    queued(db, make_settings(), 4)
    sent, retried, failed, ambiguous = Ledger(db, owner="me", lease_seconds=60).claim(NOW, 4)[0]
    with db.session() as session:
        session.execute(update(Subscriber).values(hard_bounces=1))
    later = NOW + timedelta(minutes=5)
    writer = OutcomeWriter(db, bounce_limit=3)
    try:
        writer.write([
            Outcome(sent.id, sent.subscriber_id, S.SENT, 1, NOW, reply="250 ok",
                    message_id="<a@x>"),
            Outcome(retried.id, retried.subscriber_id, S.PENDING, 1, NOW, reply="451 busy",
                    message_id="<b@x>", next_attempt_at=later),
            Outcome(failed.id, failed.subscriber_id, S.FAILED, 2, NOW, reply="554 no"),
            Outcome(ambiguous.id, ambiguous.subscriber_id, S.AMBIGUOUS, 1, NOW),
        ])
        # A row already recorded as sent is never written over (a late duplicate outcome).
        writer.write([Outcome(sent.id, sent.subscriber_id, S.PENDING, 9, NOW, reply="late")])
    finally:
        writer.close()
    with db.session() as session:
        rows = {d.id: d for d in session.scalars(select(Delivery))}
        bounces = dict(session.execute(select(Subscriber.id, Subscriber.hard_bounces)).all())
    assert rows[sent.id].status is S.SENT and rows[sent.id].attempts == 1
    assert rows[sent.id].sent_at is not None and rows[sent.id].message_id == "<a@x>"
    assert rows[retried.id].status is S.PENDING and rows[retried.id].sent_at is None
    assert rows[retried.id].next_attempt_at is not None
    assert rows[retried.id].next_attempt_at.timestamp() == later.timestamp()
    assert (rows[failed.id].status, rows[failed.id].attempts) == (S.FAILED, 2)
    assert rows[failed.id].last_reply == "554 no"
    assert rows[ambiguous.id].status is S.AMBIGUOUS and rows[ambiguous.id].last_reply is None
    assert all(d.lease_owner is None and d.lease_expires_at is None for d in rows.values())
    assert all(d.last_attempt_at is not None for d in rows.values())
    assert bounces[sent.subscriber_id] == 0
    assert {bounces[c.subscriber_id] for c in (retried, failed, ambiguous)} == {1}


def test_a_hard_bounce_counts_and_suppresses_at_the_limit(
    db: Database, make_settings: Callable[..., Settings]
) -> None:
    queued(db, make_settings(), 2)
    bounced, delivered = Ledger(db, owner="me", lease_seconds=60).claim(NOW, 2)[0]
    with db.session() as session:
        session.execute(update(Subscriber).values(hard_bounces=1))
    writer = OutcomeWriter(db, bounce_limit=2)
    try:
        writer.write([
            Outcome(bounced.id, bounced.subscriber_id, S.FAILED, 1, NOW, reply="550 gone",
                    hard_bounce=True),
            Outcome(delivered.id, delivered.subscriber_id, S.SENT, 1, NOW, reply="250 ok"),
        ])
    finally:
        writer.close()
    with db.session() as session:
        people = {s.id: s for s in session.scalars(select(Subscriber))}
    assert people[bounced.subscriber_id].hard_bounces == 2
    assert people[bounced.subscriber_id].status.value == "bounced"
    assert people[delivered.subscriber_id].hard_bounces == 0
