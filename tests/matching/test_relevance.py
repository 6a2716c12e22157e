"""Relevance: topics central to a paper fire, passing mentions do not, one threshold for all."""

from __future__ import annotations

import pytest

from newsletter.matching import THRESHOLD, Matcher, relevance
from newsletter.matching.acronyms import AcronymTable, definitions
from newsletter.matching.query import build_query
from newsletter.matching.relevance import RelevanceModel
from newsletter.preferences import Example, TopicSpec
from tests.matching.conftest import CRAFTED, NOW, REPAIR, paper

SPEECH_TOPIC = TopicSpec.build("speech processing", ["ASR", "spoken language"])
CODE_TOPIC = TopicSpec.build("LLMs for code", ["code generation", "program repair"])


def ids(matcher: Matcher, topic: TopicSpec) -> list[str]:
    return [str(hit.paper.id) for hit in matcher.relevant(topic)]


def test_definitions_are_read_from_the_text() -> None:
    text = "Large language models (LLMs) and automatic speech recognition (ASR) systems."
    assert definitions(text) == {
        "LLM": "large language models",
        "ASR": "automatic speech recognition",
    }
    assert definitions("the weather was cold (XYZ) today") == {}  # nothing before spells XYZ


def test_a_paper_keeps_its_own_meaning_of_an_acronym() -> None:
    table = AcronymTable(["automatic speech recognition (ASR)"] * 3)
    assert table.expander("attack success rate (ASR) was high; ASR fell")["ASR"] == (
        "attack success rate"
    )
    assert table.expander("our ASR model")["ASR"] == "automatic speech recognition"


def test_asr_as_attack_success_rate_is_not_speech(matcher: Matcher) -> None:
    found = ids(matcher, SPEECH_TOPIC)
    assert "speech" in found
    assert "jailbreak" not in found


def test_code_is_available_is_not_about_code(matcher: Matcher) -> None:
    found = ids(matcher, CODE_TOPIC)
    assert "repair" in found
    assert "images" not in found


def test_topic_acronym_meets_the_spelled_out_phrase(matcher: Matcher) -> None:
    """ "ICL" is never written in the paper; the corpus says what it stands for."""
    assert "demos" in ids(matcher, TopicSpec.build("ICL"))


def test_unrelated_topic_selects_nothing(matcher: Matcher) -> None:
    assert matcher.relevant(TopicSpec.build("protein folding", ["molecular dynamics"])) == []


def test_followed_author_makes_a_paper_relevant_and_says_so(matcher: Matcher) -> None:
    topic = TopicSpec.build("speech processing", authors=["J. Doe"])
    hits = {str(h.paper.id): h for h in matcher.relevant(topic)}
    assert "garden" in hits
    assert hits["garden"].relevance >= THRESHOLD
    assert "by J. Doe, whom you follow" in hits["garden"].why
    assert "garden" not in ids(matcher, TopicSpec.build("speech processing", authors=["Jo Doe"]))


def test_excluded_word_removes_only_papers_that_contain_it(matcher: Matcher) -> None:
    plain = TopicSpec.build("speech recognition", ["audio"])
    assert {"speech", "music"} <= set(ids(matcher, plain))
    without_music = TopicSpec.build("speech recognition", ["audio"], excluded=["music"])
    found = ids(matcher, without_music)
    assert "music" not in found
    assert "speech" in found


def test_one_threshold_decides_for_every_topic(matcher: Matcher) -> None:
    model = RelevanceModel(CRAFTED)
    for topic in (SPEECH_TOPIC, CODE_TOPIC, TopicSpec.build("image classification")):
        judged = model.judge(topic)
        expected = {str(p.id) for p, j in zip(CRAFTED, judged, strict=True) if j.relevance >= 0.5}
        assert set(ids(matcher, topic)) == expected
        assert all(0.0 <= j.relevance <= 1.0 for j in judged)
    assert THRESHOLD == 0.5


def test_relevance_does_not_depend_on_other_topics_asked(matcher: Matcher) -> None:
    fresh = Matcher(CRAFTED, now=NOW)
    matcher.relevant(CODE_TOPIC)  # the shared matcher has answered other topics before
    a = [(h.paper.id, h.relevance) for h in matcher.relevant(SPEECH_TOPIC)]
    b = [(h.paper.id, h.relevance) for h in fresh.relevant(SPEECH_TOPIC)]
    assert a == b


def test_why_names_the_topic_and_the_words(matcher: Matcher) -> None:
    hit = next(h for h in matcher.relevant(CODE_TOPIC) if h.paper.id == "repair")
    assert hit.why.startswith("LLMs for code — ")
    assert "program repair" in hit.why or "LLMs for code" in hit.why.split(" — ")[1]


def test_own_phrase_in_the_title_makes_the_paper_relevant(monkeypatch: pytest.MonkeyPatch) -> None:
    titled = paper(
        "aerial",
        "Vision-language models for aerial scenes",
        "We collect forty thousand drone photographs of farmland with hand-written notes and "
        "measure how well crop counts can be read off them.",
    )
    topic = TopicSpec.build("vision-language models")
    model = RelevanceModel([titled, *CRAFTED])
    monkeypatch.setattr(relevance, "Z_CUT", 50.0)  # no paper's wording alone would clear now
    judged = model.judge(topic)
    assert judged[0].relevance >= THRESHOLD
    assert all(j.relevance < THRESHOLD for j in judged[1:])
    assert build_query(topic, model.corpus).in_title
    # A phrase in too many titles to mean anything earns nothing from being in one.
    assert build_query(TopicSpec.build("large language models"), model.corpus).in_title == ()


def test_a_batch_read_off_at_once_gives_each_topic_what_it_gives_alone() -> None:
    """``all_hits`` (one pass over the batch) must agree with ``hits`` (one topic), reasons too:
    followed authors, liked papers and excluded words each take their own path through it."""
    liked = Example(REPAIR.title, REPAIR.abstract)
    topics = [
        SPEECH_TOPIC,
        TopicSpec.build("speech processing", authors=["J. Doe"]),
        TopicSpec.build("protein folding", ["molecular dynamics"]),
        TopicSpec(label="LLMs for code", keywords=("program repair",), liked=(liked,)),
        TopicSpec.build("speech recognition", ["audio"], excluded=["music"]),
        CODE_TOPIC,
    ]
    judged = RelevanceModel(CRAFTED).judge_many(topics)
    together = judged.all_hits()
    assert len(together) == len(topics)
    assert any(len(h.rows) for h in together) and any(not len(h.rows) for h in together)
    assert together[1].followed and together[3].liked is not None
    for column, batch in enumerate(together):
        alone = judged.hits(column)
        assert batch.rows.tolist() == alone.rows.tolist()
        assert batch.relevance.tolist() == alone.relevance.tolist()
        assert batch.words.tolist() == alone.words.tolist()
        assert batch.followed == alone.followed
        assert batch.judgements() == [alone.judgement(k) for k in range(len(alone.rows))]
