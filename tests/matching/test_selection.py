"""Selection: cap, exclusions, one entry per paper, trending order, cost per distinct topic."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.matching import DigestItem, Interest, Matcher, iter_digests, select_digests
from newsletter.matching.relevance import RelevanceModel, TopicScores
from newsletter.preferences import TopicSpec
from tests.matching.conftest import CRAFTED, NOW, REPAIR, SPEECH

SPEECH_TOPIC = TopicSpec.build("speech recognition", ["audio"])
CODE_TOPIC = TopicSpec.build("program repair", ["code LLMs"])
BOTH = Interest(topics=(SPEECH_TOPIC, CODE_TOPIC))


def paper_ids(items: list[DigestItem]) -> list[int | str]:
    return [item.paper_id for item in items]


def test_digest_holds_the_relevant_papers_best_first(matcher: Matcher) -> None:
    items = matcher.select(BOTH)
    assert set(paper_ids(items)) == {"speech", "music", "repair"}
    assert [i.score for i in items] == sorted((i.score for i in items), reverse=True)
    assert {i.topic for i in items} == {"speech recognition", "program repair"}


def test_size_caps_the_digest(matcher: Matcher) -> None:
    assert len(matcher.select(replace(BOTH, size=2))) == 2
    assert matcher.select(replace(BOTH, size=0)) == []


def test_papers_already_sent_are_never_selected_again(matcher: Matcher) -> None:
    items = matcher.select(replace(BOTH, size=2, exclude_ids=frozenset({"speech"})))
    assert "speech" not in paper_ids(items)
    assert len(items) == 2  # the freed place goes to the next paper


def test_a_paper_matching_several_topics_appears_once_under_its_best(matcher: Matcher) -> None:
    narrow = TopicSpec.build("speech recognition")
    broad = TopicSpec.build("audio", ["speech"])
    items = matcher.select(Interest(topics=(broad, narrow), size=10))
    assert paper_ids(items).count("speech") == 1
    best = max(matcher.relevant(narrow) + matcher.relevant(broad), key=lambda h: h.relevance)
    assert next(i for i in items if i.paper_id == best.paper.id).topic == best.topic


def test_no_topic_or_no_match_gives_an_empty_digest(matcher: Matcher) -> None:
    assert matcher.select(Interest(topics=())) == []
    assert matcher.select(Interest(topics=(TopicSpec.build("sea ice"),), always_send=True)) == []


def test_trending_breaks_ties_between_equally_relevant_papers() -> None:
    twin = replace(REPAIR, id="repair-hot", upvotes=150, featured_on=NOW.date())
    stale = replace(REPAIR, featured_on=NOW.date() - timedelta(days=60))
    items = Matcher([stale, twin, SPEECH], now=NOW).select(Interest(topics=(CODE_TOPIC,)))
    assert paper_ids(items) == ["repair-hot", "repair"]
    assert items[0].relevance == pytest.approx(items[1].relevance)
    assert items[0].score > items[1].score


def test_popularity_alone_never_selects_a_paper() -> None:
    famous = replace(CRAFTED[2], upvotes=5000, featured_on=date(2026, 3, 10))  # the image paper
    items = Matcher([famous, REPAIR], now=NOW).select(Interest(topics=(CODE_TOPIC,)))
    assert paper_ids(items) == ["repair"]


def test_cost_grows_with_distinct_topics_not_subscribers(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    judge_many = RelevanceModel.judge_many

    def counting(self: RelevanceModel, topics: Sequence[TopicSpec]) -> TopicScores:
        calls.extend(topic.label for topic in topics)
        return judge_many(self, topics)

    monkeypatch.setattr(RelevanceModel, "judge_many", counting)

    def subscribers() -> Iterator[tuple[int, Interest]]:
        for n in range(3000):
            topics = (SPEECH_TOPIC,) if n % 3 else (SPEECH_TOPIC, CODE_TOPIC)
            yield n, Interest(topics=topics, exclude_ids=frozenset({"music"} if n % 2 else ()))

    digests = dict(iter_digests(CRAFTED, subscribers(), now=NOW))
    assert len(digests) == 3000
    assert sorted(calls) == ["program repair", "speech recognition"]
    assert paper_ids(digests[1]) == ["speech"]
    assert "repair" in paper_ids(digests[0])


def test_select_digests_keys_follow_the_mapping() -> None:
    out = select_digests(CRAFTED, {"ann": BOTH, "bob": Interest(topics=())}, now=NOW)
    assert set(out) == {"ann", "bob"}
    assert out["bob"] == []
    assert set(paper_ids(out["ann"])) == {"speech", "music", "repair"}


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(min_value=0, max_value=8),
    excluded=st.sets(st.sampled_from([p.id for p in CRAFTED])),
    order=st.permutations([SPEECH_TOPIC, CODE_TOPIC, TopicSpec.build("ICL")]),
)
def test_any_interest_gives_a_well_formed_digest(
    matcher: Matcher, size: int, excluded: set[int | str], order: list[TopicSpec]
) -> None:
    items = matcher.select(
        Interest(topics=tuple(order), size=size, exclude_ids=frozenset(excluded))
    )
    ids = paper_ids(items)
    assert len(ids) <= size
    assert len(ids) == len(set(ids))
    assert not set(ids) & excluded
    assert all(item.relevance >= 0.5 and item.why for item in items)
    assert [i.score for i in items] == sorted((i.score for i in items), reverse=True)
