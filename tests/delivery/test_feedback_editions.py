"""What a "Not for me" does to the next edition beyond the paper itself: a near-duplicate of
it must not be chosen either. That push comes from matching (issue 9, the relevance work);
until matching reads disliked examples the test says so and skips."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from newsletter.config import Settings
from newsletter.delivery.editions import build_edition
from newsletter.preferences import Example, TopicSpec
from newsletter.store.database import Database
from newsletter.store.models import Delivery, Edition, Paper, Verdict
from newsletter.store.models import Frequency as F
from newsletter.store.verdicts import record_verdict
from tests.delivery.helpers import NOW, add_papers, add_subscriber

DAY = date(2024, 5, 1)


def _given(db: Database, issue_date: date) -> dict[int, list[int]]:
    with db.session() as session:
        rows = session.execute(
            select(Delivery.subscriber_id, Delivery.paper_ids)
            .join(Edition).where(Edition.issue_date == issue_date)
        ).all()
    return {sid: list(ids) for sid, ids in rows}


def _matching_reads_disliked(db: Database, topic: TopicSpec, example: Example) -> bool:
    """Whether matching changes anything at all when a topic carries a disliked example."""
    from newsletter.matching import Interest, Matcher

    with db.session() as session:
        papers = list(session.scalars(select(Paper)))
    matcher = Matcher(papers, now=NOW)

    def picks(spec: TopicSpec) -> list[tuple[int | str, float]]:
        return [(i.paper_id, round(i.score, 6))
                for i in matcher.select(Interest((spec,), size=len(papers)))]

    return picks(topic) != picks(replace(topic, disliked=(example,)))


def test_not_for_me_keeps_a_look_alike_out_of_the_next_edition(
    db: Database, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings()
    add_papers(db)
    voter = add_subscriber(db, "voter@example.org")
    control = add_subscriber(db, "control@example.org")
    build_edition(db, settings, frequency=F.DAILY, issue_date=DAY, now=NOW)
    first = _given(db, DAY)
    disliked = first[voter][0]
    with db.session() as session:
        record_verdict(session, voter, disliked, Verdict.DISLIKE, topic="speech recognition",
                       now=NOW)
        original = session.get_one(Paper, disliked)
        twin = Paper(
            source_id="twin", title=f"{original.title}: extended version",
            abstract=original.abstract, authors=list(original.authors),
            first_seen_at=NOW + timedelta(days=1), updated_at=NOW + timedelta(days=1),
            upvotes=original.upvotes,
        )
        session.add(twin)
        session.flush()
        twin_id, example = twin.id, Example(original.title, original.abstract)
    later = NOW + timedelta(days=1)
    build_edition(db, settings, frequency=F.DAILY, issue_date=later.date(), now=later)
    second = _given(db, later.date())
    assert twin_id in second[control], "the look-alike matches the topic for a reader without"
    if twin_id in second[voter]:
        if not _matching_reads_disliked(db, TopicSpec.build("speech recognition"), example):
            pytest.skip("matching does not read disliked examples yet (issue 9, relevance work)")
        pytest.fail("a near-duplicate of a paper turned down was chosen again")
