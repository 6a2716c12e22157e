"""How well one paper fits one topic, on a 0..1 scale that means the same for every topic."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from newsletter.matching.authors import followed_author
from newsletter.matching.papers import PaperLike
from newsletter.matching.text import contains_phrase, count_phrase, words
from newsletter.preferences import TopicSpec

# One threshold for every topic: relevance at or above it enters a digest.
THRESHOLD = 0.5


@dataclass(frozen=True)
class Judgement:
    relevance: float
    matched: tuple[str, ...] = ()
    followed: str | None = None


class RelevanceModel:
    def __init__(self, papers: Sequence[PaperLike], background: Sequence[PaperLike] = ()) -> None:
        self.papers = list(papers)
        self._titles = [words(p.title) for p in self.papers]
        self._abstracts = [words(p.abstract) for p in self.papers]

    def judge(self, topic: TopicSpec) -> list[Judgement]:
        phrases = [(t, words(t)) for t in (topic.label, *topic.keywords)]
        excluded = [words(t) for t in topic.excluded]
        out: list[Judgement] = []
        for paper, title, abstract in zip(self.papers, self._titles, self._abstracts, strict=True):
            if any(contains_phrase(title, x) or contains_phrase(abstract, x) for x in excluded):
                out.append(Judgement(0.0))
                continue
            best = 0.0
            matched: list[str] = []
            for typed, phrase in phrases:
                if contains_phrase(title, phrase):
                    value = 1.0
                else:
                    value = min(0.3 * count_phrase(abstract, phrase), 0.9)
                if value > 0:
                    matched.append(typed)
                best = max(best, value)
            author = followed_author(paper.authors, topic.authors)
            if author is not None:
                best = max(best, 1.0)
            out.append(Judgement(best, tuple(matched), author))
        return out
