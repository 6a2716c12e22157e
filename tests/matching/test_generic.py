"""A paper's likeness to every topic at once is taken off its likeness to one topic."""

from __future__ import annotations

import numpy as np

from newsletter.matching.generic import generic_likeness
from newsletter.matching.papers import normalized_title
from newsletter.matching.reference import reference_papers
from newsletter.matching.relevance import THRESHOLD, Calibration, RelevanceModel
from newsletter.preferences import TopicSpec

# A typed topic, as a person writes it; "AI safety" is what surveys of AI also mention.
SECURITY = TopicSpec.build(
    "adversarial attacks and model security",
    ["adversarial examples", "jailbreaking", "model stealing", "AI safety"],
)
SURVEYS = (
    "Foundation Models for Natural Language Processing -- Pre-trained Language Models "
    "Integrating Media",
    "Yi: Open Foundation Models by 01.AI",
)


def _picked(model: RelevanceModel, topic: TopicSpec) -> set[str]:
    relevance = model.judge_many([topic]).relevance[:, 0]
    papers = zip(model.papers, relevance, strict=True)
    return {normalized_title(p.title) for p, r in papers if r >= THRESHOLD}


def test_surveys_that_touch_every_topic_are_not_picked_for_a_typed_topic() -> None:
    """In the bundled sample, two broad papers (a book on foundation models, a general LLM's
    report) mention AI safety in passing; without the generic part taken off, a typed security
    topic picked both."""
    model = RelevanceModel(reference_papers())
    surveys = {normalized_title(t) for t in SURVEYS}
    assert surveys <= _picked(model.recalibrated(Calibration(generic=0.0)), SECURITY)
    picked = _picked(model, SECURITY)
    assert not surveys & picked
    attacks = ("Natural Attack for Pre-trained Models of Code", "Downstream Transfer Attack")
    assert all(any(p.startswith(normalized_title(a)) for p in picked) for a in attacks)


def test_broad_papers_resemble_the_field_more_than_the_typical_paper() -> None:
    model = RelevanceModel(reference_papers())
    likeness = generic_likeness(model.corpus, model.matrix)
    rows = {normalized_title(p.title): k for k, p in enumerate(model.papers)}
    broad = [likeness[rows[normalized_title(t)]] for t in SURVEYS]
    assert min(broad) > np.median(likeness)


def test_a_paper_sharing_no_word_with_the_topic_is_never_relevant() -> None:
    """Its score is minus its generic likeness alone; where that likeness varies more than the
    topic's own scores do (a heavy weight shows it), a paper resembling nothing would otherwise
    stand out."""
    model = RelevanceModel(reference_papers()).recalibrated(Calibration(generic=50.0))
    assert _picked(model, TopicSpec.build("sea ice", ["arctic", "glaciology"])) == set()
