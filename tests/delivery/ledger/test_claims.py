"""Claims with leases: disjoint between senders, reclaimed from the dead, released on stop."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import func, select

from newsletter.config import Settings
from newsletter.delivery.editions.build import build_edition
from newsletter.delivery.ledger.claims import Ledger
from newsletter.delivery.ledger.outcomes import Outcome, record_outcomes
from newsletter.store.database import Database
from newsletter.store.models import Delivery, DeliveryStatus, Frequency
from tests.delivery.helpers import NOW, add_papers, add_subscriber

S = DeliveryStatus


def queued(db: Database, settings: Settings, count: int) -> None:
    add_papers(db)
    for n in range(count):
        add_subscriber(db, f"s{n}@example.org")
    build_edition(db, settings, frequency=Frequency.DAILY, issue_date=date(2024, 5, 1), now=NOW)


def by_status(db: Database) -> dict[S, int]:
    with db.session() as session:
        rows = session.execute(select(Delivery.status, func.count()).group_by(Delivery.status))
        return {status: count for status, count in rows}


def test_claims_are_leased_and_disjoint(
    db: Database, make_settings: Callable[..., Settings]
) -> None:
    queued(db, make_settings(), 10)
    one = Ledger(db, owner="one", lease_seconds=60)
    two = Ledger(db, owner="two", lease_seconds=60)
    first, _ = one.claim(NOW, 4)
    second, _ = two.claim(NOW, 100)
    assert len(first) == 4 and len(second) == 6
    assert not {c.id for c in first} & {c.id for c in second}
    assert two.claim(NOW, 100) == ([], 0)
    with db.session() as session:
        leased = session.scalars(select(Delivery).where(Delivery.lease_owner == "one")).all()
        assert {d.status for d in leased} == {S.SENDING}
        assert all(d.lease_expires_at is not None for d in leased)


def test_concurrent_claims_never_overlap(
    db: Database, make_settings: Callable[..., Settings]
) -> None:
    queued(db, make_settings(), 40)
    taken: list[list[int]] = []

    def claim(name: str) -> None:
        ledger = Ledger(db, owner=name, lease_seconds=60)
        mine: list[int] = []
        while claims := ledger.claim(NOW, 3)[0]:
            mine += [c.id for c in claims]
        taken.append(mine)

    threads = [threading.Thread(target=claim, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [i for mine in taken for i in mine]
    assert len(every) == len(set(every)) == 40


def test_expired_leases_are_reclaimed_and_live_ones_kept(
    db: Database, make_settings: Callable[..., Settings]
) -> None:
    queued(db, make_settings(), 5)
    dead = Ledger(db, owner="dead", lease_seconds=30)
    alive = Ledger(db, owner="alive", lease_seconds=30)
    dead.claim(NOW, 3)
    alive.claim(NOW, 2)
    later = NOW + timedelta(seconds=45)
    alive.extend_leases(later - timedelta(seconds=20))
    assert alive.reclaim_expired(later) == 3
    claimed, _ = alive.claim(later, 10)
    assert len(claimed) == 3
    assert by_status(db) == {S.SENDING: 5}


def test_release_hands_back_only_our_unsent_claims(
    db: Database, make_settings: Callable[..., Settings]
) -> None:
    queued(db, make_settings(), 4)
    ledger = Ledger(db, owner="me", lease_seconds=60)
    claims, _ = ledger.claim(NOW, 4)
    sent = claims[0]
    record_outcomes(db, [Outcome(sent.id, sent.subscriber_id, S.SENT, 1, NOW, reply="250 ok",
                                 message_id="<x@y>")], bounce_limit=3)
    ledger.release([c.id for c in claims])
    assert by_status(db) == {S.SENT: 1, S.PENDING: 3}
    with db.session() as session:
        assert session.scalar(select(func.count()).where(Delivery.lease_owner.is_not(None))) == 0


def test_retry_outcomes_wait_for_their_time(
    db: Database, make_settings: Callable[..., Settings]
) -> None:
    queued(db, make_settings(), 1)
    ledger = Ledger(db, owner="me", lease_seconds=60)
    [claim], _ = ledger.claim(NOW, 1)
    retry = NOW + timedelta(minutes=2)
    record_outcomes(db, [Outcome(claim.id, claim.subscriber_id, S.PENDING, 1, NOW,
                                 reply="451 busy", next_attempt_at=retry)], bounce_limit=3)
    assert ledger.claim(NOW + timedelta(minutes=1), 10) == ([], 0)
    [again], _ = ledger.claim(retry, 10)
    assert again.attempts == 1
