"""How well each new paper fits one topic, on a 0..1 scale that means the same for every topic.

A topic's words (label and keywords, plus its description with equal say) become one TF-IDF query
compared with every paper of the pool. Raw cosines are not comparable between topics: a topic
written in common words scores everything higher. So each topic's scores are standardised against
their own distribution over the pool (how far above the typical paper does this one stand?), and
a single cut on that scale, mapped to relevance 0.5, decides for all topics alike.

Three plain facts override the wording score: a subscriber's own distinctive phrase in the title
means the paper is about it; a followed author's paper belongs to the topic; an excluded word
keeps a paper out of the topic whatever else it says.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from newsletter.matching.authors import followed_author
from newsletter.matching.corpus import Corpus
from newsletter.matching.papers import PaperLike
from newsletter.matching.query import TopicQuery, build_query, explain_terms
from newsletter.matching.reference import padded_background
from newsletter.matching.semantic import SemanticIndex, wanted
from newsletter.preferences import TopicSpec

# Relevance at or above this enters a digest, for every topic.
THRESHOLD = 0.5
# Standard deviations above the pool mean at which a paper becomes relevant (maps to THRESHOLD).
Z_CUT = 1.85
# Width of the logistic that turns standard deviations into 0..1 relevance.
Z_SCALE = 1.0
# Floor on a topic's score spread: a rare topic's lone passing mention must not look outstanding.
MIN_SPREAD = 0.02
# A paper whose title holds one of the subscriber's own distinctive phrases is about it.
TITLE_RELEVANCE = 0.6
# A paper by a followed author is relevant to that topic whatever its words.
FOLLOWED_RELEVANCE = 0.9
# Say of sentence embeddings, against 1 for TF-IDF, when the semantic extra is on.
SEMANTIC_WEIGHT = 0.5
# The blend separates relevant papers less sharply, so its cut sits lower (same for all topics).
SEMANTIC_Z_CUT = 1.65


@dataclass(frozen=True)
class Judgement:
    relevance: float
    matched: tuple[str, ...] = ()
    followed: str | None = None


def standardize(scores: np.ndarray, min_spread: float = 0.0) -> np.ndarray:
    """How many (floored) standard deviations each score stands above the pool's mean."""
    if scores.size == 0:
        return scores
    spread = max(float(scores.std()), min_spread, 1e-12)
    return np.asarray((scores - float(scores.mean())) / spread)


def to_relevance(z: np.ndarray, cut: float = Z_CUT) -> np.ndarray:
    """Standard deviations to 0..1, with ``cut`` landing exactly on THRESHOLD."""
    return np.asarray(1.0 / (1.0 + np.exp(-(z - cut) / Z_SCALE)))


class RelevanceModel:
    """Judges the papers of one run against any topic; built once, asked once per topic."""

    def __init__(
        self,
        papers: Sequence[PaperLike],
        background: Sequence[PaperLike] = (),
        *,
        semantic: bool | str | None = None,
    ) -> None:
        self.papers = list(papers)
        self.corpus = Corpus(self.papers, padded_background(self.papers, background))
        self.semantic = SemanticIndex(self.corpus.texts) if wanted(semantic) else None
        self._new = sp.csc_matrix(self.corpus.matrix[: len(self.papers)])

    def standing(self, topic: TopicSpec, query: TopicQuery) -> np.ndarray:
        """Standardised score of every pool paper; embeddings join in when enabled.

        The blend is rescaled to unit spread, yet a rare topic's spread floor still holds.
        """
        lexical = self.scores(query)
        z = standardize(lexical, MIN_SPREAD)
        if self.semantic is None:
            return z
        text = ". ".join(
            t for t in (topic.label, ", ".join(topic.keywords), topic.description) if t
        )
        meaning = SEMANTIC_WEIGHT * standardize(self.semantic.scores(text))
        spread = float((standardize(lexical) + meaning).std()) or 1.0
        return np.asarray((z + meaning) / spread)

    def scores(self, query: TopicQuery) -> np.ndarray:
        """Cosine of every pool paper with the topic."""
        if query.vector.nnz == 0:
            return np.zeros(self.corpus.matrix.shape[0])
        product = self.corpus.matrix @ query.vector.T
        return np.asarray(sp.csr_matrix(product).toarray()).ravel()

    def containing(
        self, phrases: tuple[tuple[int, ...], ...], where: sp.csc_matrix | None = None
    ) -> np.ndarray:
        """Which new papers (or their titles) hold every term of one of ``phrases``."""
        where = self._new if where is None else where
        found = np.zeros(len(self.papers), dtype=bool)
        for columns in phrases:
            hits = np.asarray((where[:, list(columns)] > 0).sum(axis=1)).ravel()
            found |= hits == len(columns)
        return found

    def judge(self, topic: TopicSpec) -> list[Judgement]:
        query = build_query(topic, self.corpus)
        cut = Z_CUT if self.semantic is None else SEMANTIC_Z_CUT
        relevance = to_relevance(self.standing(topic, query)[: len(self.papers)], cut)
        barred = self.containing(query.excluded)
        titled = self.containing(query.in_title, self.corpus.titles)
        out: list[Judgement] = []
        for i, paper in enumerate(self.papers):
            if barred[i]:
                out.append(Judgement(0.0))
                continue
            value = float(relevance[i])
            if titled[i]:
                value = max(value, TITLE_RELEVANCE)
            author = followed_author(paper.authors or (), topic.authors) if topic.authors else None
            if author is not None:
                value = max(value, FOLLOWED_RELEVANCE)
            matched = explain_terms(query, self.corpus, i) if value >= THRESHOLD else ()
            out.append(Judgement(0.0 if math.isnan(value) else value, matched, author))
        return out
