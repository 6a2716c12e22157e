"""Readers carry each subscriber's verdicts onto their topics, weighed at the edition's clock,
read in a fixed number of queries whatever the number of subscribers; a paper the reader
turned down is never chosen for them again."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.delivery.editions.build import build_edition, edition_id_for
from newsletter.delivery.editions.readers import Reader, due_chunks
from newsletter.matching.feedback import HALF_LIFE_DAYS
from newsletter.store.database import Database
from newsletter.store.models import Delivery, Frequency, Verdict
from newsletter.store.verdicts import record_verdict
from tests.delivery.helpers import NOW, add_papers, add_subscriber

DAY = date(2024, 5, 1)


def _due(session: Session, edition: int) -> list[Reader]:
    """Every due reader, in the chunks an edition build reads them (5,000 at a time)."""
    return [reader for chunk in due_chunks(session, edition, Frequency.DAILY, None, 5000, now=NOW)
            for reader in chunk]


@contextmanager
def counted(db: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_verdicts_become_weighted_examples_on_their_topic(db: Database) -> None:
    papers = add_papers(db)
    who = add_subscriber(db, "a@example.org", ["speech recognition", "graph neural networks"])
    plain = add_subscriber(db, "b@example.org", ["speech recognition", "graph neural networks"])
    with db.session() as session:
        record_verdict(session, who, papers[0], Verdict.LIKE, topic="speech recognition",
                       now=NOW - timedelta(days=HALF_LIFE_DAYS))
        record_verdict(session, who, papers[2], Verdict.DISLIKE, topic=None, now=NOW)
        edition = edition_id_for(session, Frequency.DAILY, DAY, NOW)
        readers = {r.id: r for r in _due(session, edition)}
    speech, graphs = readers[who].topics
    assert [(e.title[:20], e.weight) for e in speech.liked] == [("Robust speech recogn", 0.5)]
    assert [e.title[:10] for e in speech.disliked] == ["Graph neur"]
    assert graphs.liked == () and [e.title[:10] for e in graphs.disliked] == ["Graph neur"]
    assert readers[who].dismissed == {papers[2]}
    assert all(t.liked == t.disliked == () for t in readers[plain].topics)
    assert readers[plain].dismissed == frozenset()


def test_readers_are_read_in_a_fixed_number_of_queries(db: Database) -> None:
    papers = add_papers(db)

    def queries(subscribers: int) -> int:
        ids = [add_subscriber(db, f"r{subscribers}-{n}@example.org") for n in range(subscribers)]
        with db.session() as session:
            for n, sid in enumerate(ids):
                record_verdict(session, sid, papers[n % 5], Verdict.LIKE, topic=None, now=NOW)
            edition = edition_id_for(session, Frequency.DAILY, DAY, NOW)
            session.commit()
            with counted(db) as statements:
                found = _due(session, edition)
            assert sum(bool(r.topics[0].liked) for r in found) >= subscribers
            return len(statements)

    assert queries(3) == queries(40)


def test_a_paper_turned_down_is_never_chosen_again(
    db: Database, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings()
    papers = add_papers(db)
    voter = add_subscriber(db, "voter@example.org")
    control = add_subscriber(db, "control@example.org")
    with db.session() as session:
        record_verdict(session, voter, papers[0], Verdict.DISLIKE, topic="speech recognition",
                       now=NOW)
    build_edition(db, settings, frequency=Frequency.DAILY, issue_date=DAY, now=NOW)
    with db.session() as session:
        given = dict(session.execute(select(Delivery.subscriber_id, Delivery.paper_ids)).all())
    assert papers[0] in given[control]  # it matches the topic...
    assert papers[0] not in given[voter]  # ...but this reader said "Not for me"
