"""Small hand-made papers, matched against the bundled sample papers as background."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from newsletter.matching import Matcher, PaperRecord

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)


def paper(
    pid: str,
    title: str,
    abstract: str,
    *,
    authors: tuple[str, ...] = (),
    upvotes: int = 0,
    featured_on: date | None = None,
) -> PaperRecord:
    return PaperRecord(pid, title, abstract, authors, upvotes, None, featured_on)


SPEECH = paper(
    "speech",
    "Robust speech recognition for noisy call-centre audio",
    "Automatic speech recognition (ASR) systems degrade on noisy telephone audio. We adapt a "
    "self-supervised speech encoder to call-centre recordings and decode with a small language "
    "model. ASR word error rate drops by a third on three noisy speech benchmarks. Speech "
    "recognition of accented speakers improves the most.",
)
JAILBREAK = paper(
    "jailbreak",
    "Suffix optimisation jailbreaks aligned chat models",
    "We present a jailbreak attack on aligned chat models that optimises an adversarial suffix. "
    "It reaches an attack success rate (ASR) of 92% on five open models. ASR stays high under "
    "paraphrasing defences, and transfers to closed models. We discuss safety implications.",
)
IMAGES = paper(
    "images",
    "Frequency augmentation for sharper image classifiers",
    "We propose a frequency-domain data augmentation for image classification. Mixing the "
    "amplitude spectra of training images improves ImageNet accuracy and robustness to "
    "corruptions for convolutional and transformer backbones. Code is available at "
    "https://github.com/example/freqaug.",
)
REPAIR = paper(
    "repair",
    "Repairing real bugs with large language models of code",
    "Automated program repair asks a model to fix a buggy function. We fine-tune large "
    "language models of code on bug-fix commits and generate candidate patches that are "
    "validated by the project's tests. Our code LLM repairs 40% more bugs than prior program "
    "repair tools.",
)
DEMONSTRATIONS = paper(
    "demos",
    "Why transformers learn from demonstrations in the prompt",
    "Large language models can solve a new task from a few input-output demonstrations placed "
    "in the prompt, without any weight update. We analyse this in-context learning in "
    "transformers trained on linear regression tasks and show that the learned algorithm "
    "resembles gradient descent on the demonstrations.",
)
GARDEN = paper(
    "garden",
    "Watering schedules for allotment gardens",
    "We survey how allotment holders water vegetables during dry summers and compare "
    "hand watering with drip irrigation in twelve gardens.",
    authors=("Jane Q. Doe", "Sam Roe"),
)
MUSIC = paper(
    "music",
    "Speech and music separation with audio transformers",
    "We separate speech from background music in broadcast audio. An audio transformer "
    "predicts masks for the speech and the music stems; speech recognition on the separated "
    "speech improves markedly.",
)

CRAFTED = (SPEECH, JAILBREAK, IMAGES, REPAIR, DEMONSTRATIONS, GARDEN, MUSIC)


@pytest.fixture(scope="session")
def matcher() -> Matcher:
    return Matcher(CRAFTED, now=NOW)
