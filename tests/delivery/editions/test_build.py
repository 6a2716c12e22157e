"""Building editions: one row per due subscriber, idempotent, never a paper twice."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from newsletter.config import Settings
from newsletter.delivery.editions import processes
from newsletter.delivery.editions.build import build_edition
from newsletter.delivery.ledger.claims import NOTHING_RELEVANT
from newsletter.matching.relevance import RelevanceModel
from newsletter.store.database import Database
from newsletter.store.models import (
    Delivery,
    DeliveryStatus,
    Edition,
    Frequency,
    SubscriberStatus,
)
from tests.delivery.helpers import NOW, add_papers, add_subscriber

DAY = date(2024, 5, 1)


def deliveries(db: Database) -> dict[int, Delivery]:
    with db.session() as session:
        return {d.subscriber_id: d for d in session.scalars(select(Delivery))}


def test_build_writes_one_row_per_due_subscriber_and_is_idempotent(
    db: Database, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings()
    add_papers(db)
    speech = add_subscriber(db, "speech@example.org", ["speech recognition"])
    graphs = add_subscriber(db, "graphs@example.org", ["graph neural networks"], digest_size=1)
    nothing = add_subscriber(db, "none@example.org", ["quantum chemistry"])
    trending = add_subscriber(db, "trend@example.org", ["quantum chemistry"], always_send=True)
    add_subscriber(db, "weekly@example.org", frequency=Frequency.WEEKLY)
    add_subscriber(db, "gone@example.org", status=SubscriberStatus.UNSUBSCRIBED)

    first = build_edition(db, settings, frequency=Frequency.DAILY, issue_date=DAY, now=NOW)
    assert (first.due, first.queued, first.trending, first.nothing_relevant) == (4, 3, 1, 1)
    again = build_edition(db, settings, frequency=Frequency.DAILY, issue_date=DAY, now=NOW)
    assert (again.due, again.queued) == (0, 0)
    assert again.edition_id == first.edition_id
    assert again.totals == {"due": 4, "queued": 3, "trending": 1, "nothing_relevant": 1}

    rows = deliveries(db)
    assert set(rows) == {speech, graphs, nothing, trending}
    assert rows[speech].status is DeliveryStatus.PENDING
    assert len(rows[speech].paper_ids) >= 2
    assert len(rows[speech].reasons["why"]) == len(rows[speech].paper_ids)
    assert "speech" in rows[speech].reasons["why"][0].lower()
    assert len(rows[graphs].paper_ids) == 1
    assert rows[nothing].status is DeliveryStatus.SUPPRESSED
    assert rows[nothing].last_reply == NOTHING_RELEVANT
    assert rows[trending].reasons["mode"] == "trending" and rows[trending].paper_ids
    with db.session() as session:
        edition = session.scalars(select(Edition)).one()
        assert edition.stats == again.totals


def test_subscriber_ids_limit_who_is_due_and_stats_add_up(
    db: Database, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings()
    add_papers(db)
    first = add_subscriber(db, "a@example.org")
    second = add_subscriber(db, "b@example.org")
    one = build_edition(db, settings, frequency=Frequency.DAILY, issue_date=DAY, now=NOW,
                        subscriber_ids=[first])
    two = build_edition(db, settings, frequency=Frequency.DAILY, issue_date=DAY, now=NOW,
                        subscriber_ids=[first, second])
    assert (one.due, two.due, two.totals["due"]) == (1, 1, 2)
    assert set(deliveries(db)) == {first, second}


def test_papers_already_given_are_not_given_again(
    db: Database, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings()
    add_papers(db)
    person = add_subscriber(db, "a@example.org", ["speech recognition"], digest_size=2)
    build_edition(db, settings, frequency=Frequency.DAILY, issue_date=DAY, now=NOW)
    first = deliveries(db)[person].paper_ids
    with db.session() as session:
        session.execute(update(Delivery).values(status=DeliveryStatus.SENT))
    tomorrow = NOW + timedelta(days=1)
    build_edition(db, settings, frequency=Frequency.DAILY, issue_date=DAY + timedelta(days=1),
                  now=tomorrow)
    with db.session() as session:
        later = session.scalars(
            select(Delivery).join(Edition).where(Edition.issue_date == DAY + timedelta(days=1))
        ).one()
    assert later.paper_ids and not set(later.paper_ids) & set(first)


def test_old_papers_are_not_candidates(
    db: Database, make_settings: Callable[..., Settings]
) -> None:
    add_papers(db, now=NOW - timedelta(days=5))
    add_subscriber(db, "a@example.org", ["speech recognition"])
    stats = build_edition(db, make_settings(), frequency=Frequency.DAILY, issue_date=DAY, now=NOW)
    assert stats.nothing_relevant == 1
    weekly = add_subscriber(db, "w@example.org", ["speech recognition"],
                            frequency=Frequency.WEEKLY)
    stats = build_edition(db, make_settings(), frequency=Frequency.WEEKLY, issue_date=DAY, now=NOW)
    assert stats.queued == 1 and set(deliveries(db)) >= {weekly}


def test_matching_work_follows_distinct_topics_not_subscribers(
    db: Database, make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    add_papers(db)
    topics = [["speech recognition"], ["graph neural networks"],
              ["speech recognition", "graph neural networks"]]
    for n in range(30):
        add_subscriber(db, f"s{n}@example.org", topics[n % 3])
    judged: list[object] = []
    original = RelevanceModel.judge_many

    def counting(self: RelevanceModel, topics: list[object]) -> object:
        judged.extend(topics)
        return original(self, topics)  # type: ignore[arg-type]

    monkeypatch.setattr(RelevanceModel, "judge_many", counting)
    stats = build_edition(db, make_settings(), frequency=Frequency.DAILY, issue_date=DAY, now=NOW)
    assert stats.queued == 30
    assert len(judged) == 2  # two distinct topics, thirty subscribers


def test_concurrent_builds_create_each_row_once(
    db: Database, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings()
    add_papers(db)
    for n in range(20):
        add_subscriber(db, f"s{n}@example.org")
    results: list[int] = []
    errors: list[BaseException] = []

    def build() -> None:
        try:
            stats = build_edition(db, settings, frequency=Frequency.DAILY, issue_date=DAY, now=NOW)
            results.append(stats.due)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=build) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(deliveries(db)) == 20
    with db.session() as session:
        assert session.scalars(select(Edition)).one().stats["due"] == 20


def test_small_chunks_overlap_and_the_totals_add_up(
    db: Database, make_settings: Callable[..., Settings]
) -> None:
    """Many chunks: on PostgreSQL two writers commit side by side (and may finish out of order),
    each taking the edition's stats lock while the other's COPY holds key-share locks on it."""
    settings = make_settings(edition_chunk_size=2)
    add_papers(db)
    for n in range(31):
        add_subscriber(db, f"s{n}@example.org", ["speech recognition"] if n % 2 else ["graphs"])
    seen: list[tuple[int, int]] = []
    stats = build_edition(db, settings, frequency=Frequency.DAILY, issue_date=DAY, now=NOW,
                          progress=lambda done, total: seen.append((done, total)))
    assert stats.due == 31 and len(deliveries(db)) == 31
    assert stats.totals["due"] == 31
    assert [done for done, _ in seen] == sorted(done for done, _ in seen) and seen[-1][0] == 31
    with db.session() as session:
        assert session.scalars(select(Edition)).one().stats == stats.totals


def test_worker_processes_choose_what_the_build_itself_would(
    db: Database, make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large build chooses in worker processes, each with a matcher of its own built from the
    database: the rows must be the ones the build's own process writes."""
    add_papers(db)
    topics = [["speech recognition"], ["graph neural networks"], ["quantum chemistry"],
              ["video generation: diffusion"], ["speech recognition", "graph neural networks"]]
    for n in range(24):
        add_subscriber(db, f"r{n}@example.org", topics[n % len(topics)],
                       always_send=n % 3 == 0, digest_size=(3, 10)[n % 2])
    handed: list[int] = []
    submit = processes.InWorkers.submit

    def counted(self: processes.InWorkers, readers: Any, given: Any) -> Any:
        handed.append(len(readers))
        return submit(self, readers, given)

    monkeypatch.setattr(processes.InWorkers, "submit", counted)

    def build(workers: int) -> dict[int, tuple[DeliveryStatus, list[int], dict[str, Any]]]:
        settings = make_settings(edition_chunk_size=3, edition_processes=workers)
        stats = build_edition(db, settings, frequency=Frequency.DAILY, issue_date=DAY, now=NOW)
        assert stats.due == 24 and stats.totals["due"] == 24
        rows = {n: (d.status, d.paper_ids, d.reasons) for n, d in deliveries(db).items()}
        with db.session() as session:
            session.execute(delete(Delivery))
            session.execute(delete(Edition))
        return rows

    in_workers = build(2)
    assert sum(handed) == 24, "every chunk went to a worker process"
    handed.clear()
    alone = build(1)
    assert handed == []
    assert in_workers == alone
    assert {status for status, _, _ in alone.values()} == {DeliveryStatus.PENDING,
                                                           DeliveryStatus.SUPPRESSED}
