"""A reader's verdicts steer their topic, short typed topics work on one day's pool, and the
why-line reads at a glance."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest

from newsletter.matching import Interest, Matcher
from newsletter.matching.catalog import CATALOG
from newsletter.matching.jsonfiles import load_papers
from newsletter.matching.papers import PaperRecord, normalized_title
from newsletter.matching.ranking import MAX_WHY, explain
from newsletter.matching.relevance import Judgement, RelevanceModel
from newsletter.preferences import Example, TopicSpec
from tests.matching.conftest import CRAFTED, DEMONSTRATIONS, IMAGES, NOW, paper

ROOT = Path(__file__).resolve().parents[2]
# ../shared beside the repository (a worktree sits one level deeper).
SHARED = next(
    (b / "shared" for b in (ROOT.parent, ROOT.parent.parent) if (b / "shared").exists()),
    ROOT.parent / "shared",
)
SPEECH_TOPIC = TopicSpec.build("speech recognition", ["audio"])
needs_shared = pytest.mark.skipif(
    not (SHARED / "data/papers.json").exists(), reason="needs ../shared/data"
)


def sample_days() -> list[list[PaperRecord]]:
    """The shared sample's five daily listings (``seed`` order), each paper once a day."""
    papers = load_papers(SHARED / "data/papers.json", now=NOW)
    by_title = {normalized_title(p.title): p for p in papers}
    days: dict[str, list[PaperRecord]] = {}
    for raw in json.loads((SHARED / "data/papers.json").read_text(encoding="utf-8")):
        paper = by_title[normalized_title(raw["title"])]
        if paper not in (day := days.setdefault(str(raw["seed"]), [])):
            day.append(paper)
    return [days[seed] for seed in sorted(days)]


def selected(matcher: Matcher, topic: TopicSpec) -> list[str]:
    return [str(i.paper_id) for i in matcher.select(Interest((topic,), size=50))]


def look_alike(title: str, abstract: str) -> Example:
    """Another paper saying nearly the same thing under another title."""
    return Example(f"A study: {title.lower()}", abstract)


def test_a_liked_look_alike_pulls_a_paper_in_and_says_so() -> None:
    matcher = Matcher(CRAFTED, now=NOW)
    assert "images" not in selected(matcher, SPEECH_TOPIC)
    liked = replace(SPEECH_TOPIC, liked=(look_alike(IMAGES.title, IMAGES.abstract),))
    items = {str(i.paper_id): i for i in matcher.select(Interest((liked,), size=50))}
    assert "images" in items
    assert items["images"].why.startswith('Like "A study:')
    assert items["images"].why.endswith(", which you liked")
    assert "speech" in items  # the topic's own words still count


def test_a_disliked_look_alike_pushes_a_paper_out() -> None:
    matcher = Matcher(CRAFTED, now=NOW)
    topic = TopicSpec.build("transformers")
    assert {"demos", "music"} <= set(selected(matcher, topic))
    disliked = replace(topic, disliked=(look_alike(DEMONSTRATIONS.title, DEMONSTRATIONS.abstract),))
    after = selected(matcher, disliked)
    assert "demos" not in after
    assert "music" in after


def test_a_faded_verdict_moves_less_than_a_fresh_one() -> None:
    matcher = Matcher(CRAFTED, now=NOW)
    example = look_alike(IMAGES.title, IMAGES.abstract)
    fresh = replace(SPEECH_TOPIC, liked=(example,))
    faded = replace(SPEECH_TOPIC, liked=(replace(example, weight=0.01),))
    score = {
        name: next(
            (
                i.relevance
                for i in matcher.select(Interest((t,), size=50))
                if i.paper_id == "images"
            ),
            0.0,
        )
        for name, t in (("fresh", fresh), ("faded", faded))
    }
    assert score["fresh"] > score["faded"]


@needs_shared
def test_a_short_typed_topic_finds_its_papers_in_a_thirty_paper_day() -> None:
    labels = json.loads((SHARED / "eval/dev_topics.json").read_text(encoding="utf-8"))["labels"]
    day = sample_days()[2]
    assert len(day) == 30
    relevant = {normalized_title(t) for t in labels["speech-audio"]}
    topic = TopicSpec.build("speech recognition", ["ASR"])  # two words and a keyword
    items = Matcher(day, now=NOW).select(Interest((topic,), size=30))
    got = {
        normalized_title(every_title)
        for every_title in (p.title for p in day if p.id in {i.paper_id for i in items})
    }
    wanted = relevant & {normalized_title(p.title) for p in day}
    assert wanted and got
    assert got <= wanted  # nothing off topic
    assert items[0].why.startswith("Speech recognition — ")


def test_why_line_has_no_repeats_and_fits_a_phone() -> None:
    judgement = Judgement(
        0.9, matched=("state space model", "state space models", "State-space model", "Mamba")
    )
    line = explain("state space models", judgement)
    assert line == 'State space models — about "state space model", "state space models"' or (
        line.count("state space") <= 2 and len(line) <= MAX_WHY
    )
    long = explain("a very long topic label " * 4, Judgement(0.9, liked="word " * 40))
    assert len(long) <= MAX_WHY and not long.endswith(" ")


def test_why_line_does_not_quote_the_topic_back() -> None:
    """The line starts with the topic's name: quoting it again says nothing (and used to cut
    it short: 'Vision-language models — title says "vision-language…"')."""
    named = ("vision-language models",)
    assert explain("vision-language models", Judgement(0.9, named, in_title=named)) == (
        "Vision-language models — in the title"
    )
    assert explain("Vision-Language models", Judgement(0.9, ("vision language models",))) == (
        "Vision-Language models — named in the abstract"
    )
    both = Judgement(0.9, ("speech recognition", "ASR"), in_title=("speech recognition",))
    assert explain("speech recognition", both) == 'Speech recognition — about "ASR"'
    # Nor a later word that restates part of it (from ASR's long form, in a real digest).
    part = Judgement(0.9, ("speech recognition", "ASR", "automatic speech"))
    assert explain("speech recognition", part) == 'Speech recognition — about "ASR"'
    # The name's initials are the name ("RL" under reinforcement learning said nothing more);
    # one word of it is not: it tells which part matched.
    assert explain("reinforcement learning", Judgement(0.9, ("RL",))) == (
        "Reinforcement learning — named in the abstract"
    )
    assert explain("retrieval-augmented generation", Judgement(0.9, ("RAGs", "reranker"))) == (
        'Retrieval-augmented generation — about "reranker"'
    )
    assert explain("medical AI", Judgement(0.9, ("AI",))) == 'Medical AI — about "AI"'


def test_a_long_reason_stays_whole_and_the_topic_gives_way() -> None:
    for label, said, line in (
        ("continual learning", {"in_title": ("class-incremental learning",)},
         'Continual… — title says "class-incremental learning"'),
        ("LLM agents and tool use", {"matched": ("application programming interfaces",)},
         'LLM agents… — about "application programming interfaces"'),
        # A second word only where the topic keeps MIN_HEAD characters.
        ("self-supervised representation learning", {"matched": ("masking", "unlabeled")},
         'Self-supervised representation… — about "masking"'),
    ):
        assert explain(label, Judgement(0.9, **said)) == line  # type: ignore[arg-type]
    # Only a phrase too long for any line is shortened, inside quotes that stay closed.
    for said in ({"matched": ("application programming interfaces for autonomous agents",)},
                 {"in_title": ("application programming interfaces for autonomous agents",)}):
        line = explain("LLM agents and tool use", Judgement(0.9, **said))  # type: ignore[arg-type]
        assert len(line) <= MAX_WHY and line.endswith('…"') and line.count('"') == 2, line


def test_matched_words_are_never_repeated(matcher: Matcher) -> None:
    topic = TopicSpec.build("LLMs for code", ["program repair", "program-repair", "code LLM"])
    for item in matcher.relevant(topic):
        said = item.why.split(" — ", 1)[1]
        quoted = [w.lower().replace("-", " ") for w in said.split('"')[1::2]]
        assert len(quoted) == len(set(quoted)), item.why
        assert len(item.why) <= MAX_WHY


@needs_shared
def test_an_acronym_shown_is_not_followed_by_its_own_spelled_out_words() -> None:
    """Papers spell ASR out ("automatic speech recognition (ASR)"): once "ASR" is shown,
    "automatic" is the same reason again (two lines said 'about "ASR", "automatic"')."""
    papers = load_papers(SHARED / "data/papers.json", now=NOW)
    topic = TopicSpec.build("speech and audio processing", ["ASR", "wav2vec", "whisper"])
    lines = [item.why for item in Matcher(papers, now=NOW).relevant(topic)]
    with_asr = [line for line in lines if '"ASR"' in line]
    assert len(with_asr) >= 3
    assert not [line for line in with_asr if '"automatic' in line], with_asr


@needs_shared
def test_every_pick_of_a_day_says_why_even_one_that_came_through_the_widened_query() -> None:
    """A paper that shares no distinctive word with its topic came in through the words of the
    topic's best-fitting papers; its line still names the heaviest word it shares ("PROP: ...
    Ad-hoc Retrieval" under retrieval-augmented generation had a line with no reason)."""
    widened = []
    for day in sample_days():
        matcher = Matcher(day, now=NOW)
        for topic in (entry.spec for entry in CATALOG):
            for item in matcher.relevant(topic):
                assert " — " in item.why, (item.why, item.paper.title)
                if normalized_title(item.paper.title).startswith("prop pre training"):
                    widened.append(item.why)
    assert 'Retrieval-augmented generation — about "retrieval"' in widened


@needs_shared
def test_a_reason_reads_as_the_paper_writes_it() -> None:
    """"Qwen-Audio" holds the term "audio"; a line 'about "qwen-audio"' named the paper, not
    why it fits. A part the paper never writes alone ("multi" of "multi-head") stays whole, and
    a term the paper only writes as an acronym reads as the acronym ('about "artificial",
    "intelligence"' for "01.AI", words the paper never wrote)."""
    papers = load_papers(SHARED / "data/papers.json", now=NOW)
    qwen = paper(
        "qwen",
        "Qwen-Audio: universal audio understanding",
        "We present Qwen-Audio, a multi-head model for audio understanding. It hears speech, "
        "music and sounds, and answers questions about audio clips.",
    )
    matcher = Matcher([qwen, *papers[:40]], now=NOW)
    topic = TopicSpec.build("hearing machines", description="Models that understand audio.")
    assert [item.why for item in matcher.relevant(topic)] == ['Hearing machines — about "audio"']
    wording = matcher.model.corpus.wordings[0]
    assert wording["audio"] == "audio" and wording["multi"] == "multi-head"
    defined = paper("a", "Speech", "We study automatic speech recognition (ASR). ASR is hard.")
    used = paper("b", "Noisy ASR", "We improve ASR on noisy audio with a small encoder.")
    by_paper = Matcher([defined, used], now=NOW).model.corpus.wordings
    assert [w["speech recognit"] for w in by_paper] == ["speech recognition", "ASR"]
    assert [w["recognit"] for w in by_paper] == ["recognition", "ASR"]


@needs_shared
def test_a_reason_is_the_phrase_not_the_word_it_holds() -> None:
    """Once "law" was shown, "scaling law" counted as a repeat of it: 'Scaling laws and training
    dynamics — about "law"' for "CMR Scaling Law". The phrase takes the word's place."""
    papers = load_papers(SHARED / "data/papers.json", now=NOW)
    topic = TopicSpec.build("scaling laws and training dynamics", ["pretraining checkpoints"])
    lines = {i.paper.title[:15]: i.why for i in Matcher(papers, now=NOW).relevant(topic)}
    assert lines["CMR Scaling Law"].split(" — ")[1].startswith('about "scaling law"')
    assert not [line for line in lines.values() if '"law"' in line], lines
    # Not when the phrase also holds something the line says anyway ("interpretability", the
    # topic's own name): 'about "mechanistic interpretability"' under Interpretability.
    spec = next(entry.spec for entry in CATALOG if entry.label == "interpretability")
    whys = [item.why for item in Matcher(papers, now=NOW).relevant(spec)]
    assert whys and not [why for why in whys if "interpretability" in why.split(" — ")[1]], whys


def test_another_version_of_a_paper_turned_down_stays_out_however_well_it_matches() -> None:
    matcher = Matcher(CRAFTED, now=NOW)
    assert "speech" in selected(matcher, SPEECH_TOPIC)
    speech = CRAFTED[0]
    disliked = replace(SPEECH_TOPIC, disliked=(look_alike(speech.title, speech.abstract),))
    assert "speech" not in selected(matcher, disliked)


def test_a_topic_that_says_much_leans_less_on_its_verdicts() -> None:
    """A curated paragraph already says what it wants: the same liked paper moves it less."""
    model = RelevanceModel(CRAFTED)
    example = look_alike(IMAGES.title, IMAGES.abstract)
    described = replace(
        SPEECH_TOPIC,
        description=(
            "Automatic speech recognition and spoken language processing: acoustic models, "
            "speech encoders, word error rate, noisy and accented speech, speaker adaptation, "
            "audio transcription and decoding with language models."
        ),
    )
    row = [p.id for p in CRAFTED].index("images")

    def lift(topic: TopicSpec) -> float:
        """How far the liked look-alike moves the paper, in the topic's standard deviations."""
        before = model.judge(topic)[row].relevance
        after = model.judge(replace(topic, liked=(example,)))[row].relevance
        return math.log(after / (1 - after)) - math.log(before / (1 - before))

    assert lift(SPEECH_TOPIC) > 1.5 * lift(described) > 0
