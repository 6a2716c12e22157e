"""Verdicts: one row per subscriber and paper, upserted; undo; lookup of example papers;
the batched read that turns verdicts into weighted examples on each topic."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from newsletter.matching.feedback import HALF_LIFE_DAYS
from newsletter.preferences import Example, TopicSpec
from newsletter.store.database import Database
from newsletter.store.models import Delivery, Edition, Frequency, Paper, PaperVerdict, Verdict
from newsletter.store.subscribers import create_subscriber, with_verdicts
from newsletter.store.verdicts import (
    find_paper,
    judged_papers,
    record_verdict,
    topic_given_for,
    verdict_on,
    verdicts_of,
    withdraw_verdict,
)
from newsletter.web.accounts import erase

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def _paper(session_db: Database, title: str, arxiv_id: str | None = None) -> int:
    with session_db.session() as session:
        paper = Paper(
            source_id=arxiv_id or f"title:{title[:10]}", arxiv_id=arxiv_id, title=title,
            abstract=f"About {title}.", authors=["Ada Lovelace"], first_seen_at=NOW,
            updated_at=NOW,
        )
        session.add(paper)
        session.flush()
        return paper.id


def _subscriber(db: Database, email: str, *labels: str) -> int:
    with db.session() as session:
        topics = [TopicSpec.build(label) for label in labels or ("speech recognition",)]
        return create_subscriber(session, email, topics, now=NOW).id


def _count(db: Database) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(PaperVerdict)) or 0)


def test_recording_again_updates_the_one_row(db: Database) -> None:
    who = _subscriber(db, "a@example.org")
    paper = _paper(db, "Streaming speech recognition")
    for verdict, topic in ((Verdict.LIKE, "speech"), (Verdict.LIKE, "speech"),
                           (Verdict.DISLIKE, None)):
        with db.session() as session:
            record_verdict(session, who, paper, verdict, topic=topic, now=NOW)
    assert _count(db) == 1
    with db.session() as session:
        assert verdict_on(session, who, paper) is Verdict.DISLIKE
        (row,) = verdicts_of(session, who)
    assert (row.paper_id, row.verdict, row.topic) == (paper, Verdict.DISLIKE, None)
    assert row.title == "Streaming speech recognition"


def test_undo_removes_the_verdict_and_is_harmless_twice(db: Database) -> None:
    who = _subscriber(db, "a@example.org")
    paper = _paper(db, "P")
    with db.session() as session:
        record_verdict(session, who, paper, Verdict.LIKE, topic=None, now=NOW)
    with db.session() as session:
        assert withdraw_verdict(session, who, paper) is True
    with db.session() as session:
        assert withdraw_verdict(session, who, paper) is False
        assert verdict_on(session, who, paper) is None


def test_verdicts_go_with_their_subscriber_or_paper(db: Database) -> None:
    one, two = _subscriber(db, "a@example.org"), _subscriber(db, "b@example.org")
    kept, dropped = _paper(db, "Kept"), _paper(db, "Dropped")
    with db.session() as session:
        for who in (one, two):
            for paper in (kept, dropped):
                record_verdict(session, who, paper, Verdict.LIKE, topic=None, now=NOW)
    with db.session() as session:
        session.delete(session.get(Paper, dropped))
    assert _count(db) == 2
    assert erase(db, one)
    with db.session() as session:
        assert [(v.subscriber_id, v.paper_id) for v in session.scalars(select(PaperVerdict))] == [
            (two, kept)
        ]


def test_examples_weigh_by_age_and_go_to_their_topic(db: Database) -> None:
    who = _subscriber(db, "a@example.org", "speech recognition", "robotics")
    other = _subscriber(db, "b@example.org")
    fresh, old, everywhere = _paper(db, "Fresh"), _paper(db, "Old"), _paper(db, "Everywhere")
    with db.session() as session:
        record_verdict(session, who, fresh, Verdict.LIKE, topic="speech recognition", now=NOW)
        record_verdict(session, who, old, Verdict.DISLIKE, topic="robotics",
                       now=NOW - timedelta(days=HALF_LIFE_DAYS))
        record_verdict(session, who, everywhere, Verdict.DISLIKE, topic=None, now=NOW)
        judged = judged_papers(session, [who, other], now=NOW)
    assert set(judged) == {who}
    weights = {j.paper_id: j.example.weight for j in judged[who]}
    assert weights == {fresh: 1.0, old: 0.5, everywhere: 1.0}
    speech, robotics = with_verdicts(
        [TopicSpec.build("speech recognition"), TopicSpec.build("robotics")], judged[who]
    )
    assert [e.title for e in speech.liked] == ["Fresh"]
    assert [e.title for e in speech.disliked] == ["Everywhere"]
    assert robotics.liked == ()
    assert sorted(e.title for e in robotics.disliked) == ["Everywhere", "Old"]
    assert speech.liked[0] == Example("Fresh", "About Fresh.", ("Ada Lovelace",), 1.0)


def test_a_verdict_for_a_removed_topic_counts_for_every_topic(db: Database) -> None:
    who = _subscriber(db, "a@example.org", "robotics")
    paper = _paper(db, "Gone topic")
    with db.session() as session:
        record_verdict(session, who, paper, Verdict.LIKE, topic="old label", now=NOW)
        judged = judged_papers(session, [who], now=NOW)[who]
    (robotics,) = with_verdicts([TopicSpec.build("robotics")], judged)
    assert [e.title for e in robotics.liked] == ["Gone topic"]


@pytest.mark.parametrize(
    "reference",
    [
        "2401.12345",
        "2401.12345v2",
        "arXiv:2401.12345",
        "https://arxiv.org/abs/2401.12345v3",
        "https://huggingface.co/papers/2401.12345",
        "  A Paper   About   Speech ",
        "a paper about speech",
    ],
)
def test_example_papers_are_found_by_id_url_or_title(db: Database, reference: str) -> None:
    paper = _paper(db, "A Paper About Speech", "2401.12345")
    _paper(db, "Another paper", "2401.99999")
    with db.session() as session:
        found = find_paper(session, reference)
        assert found is not None and found.id == paper


@pytest.mark.parametrize(
    "reference", ["2402.00001", "https://huggingface.co/papers/2402.00001", "No such title", ""]
)
def test_unknown_example_papers_are_not_found(db: Database, reference: str) -> None:
    _paper(db, "A Paper About Speech", "2401.12345")
    with db.session() as session:
        assert find_paper(session, reference) is None


def test_the_topic_comes_from_the_digest_that_carried_the_paper(db: Database) -> None:
    who = _subscriber(db, "a@example.org")
    first, second = _paper(db, "First"), _paper(db, "Second")
    with db.session() as session:
        edition = Edition(frequency=Frequency.DAILY, issue_date=date(2026, 11, 30), created_at=NOW)
        session.add(edition)
        session.flush()
        session.add(Delivery(
            edition_id=edition.id, subscriber_id=who, paper_ids=[first, second],
            reasons={"mode": "match", "why": ["a", "b"], "topics": ["speech", "robotics"]},
            created_at=NOW,
        ))
    with db.session() as session:
        assert topic_given_for(session, who, second) == "robotics"
        assert topic_given_for(session, who, 999_999) is None
