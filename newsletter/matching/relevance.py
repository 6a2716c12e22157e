"""How well each new paper fits a topic, on a 0..1 scale that means the same for every topic.

A topic's words (label and keywords, plus its description with equal say) become a TF-IDF query
compared with every paper of the pool *and of a background corpus* (older papers from the store,
or on a fresh install the bundled sample). The background is what makes scores stable: a topic
is standardised against a few hundred typical papers, not against a daily pool of thirty. Each
paper's likeness to every topic at once (:mod:`newsletter.matching.generic`) is taken off first,
so a survey that mentions everything does not stand out for a topic it only mentions.

Short typed topics say little, so the query is widened by pseudo-relevance feedback: the papers
that best fit it (new or background) lend it their words, through the paper-paper similarity
matrix, so "medical AI: clinical NLP" comes to meet "patients" and "radiology" without any list
of synonyms. A reader's verdicts act the same way: liked papers pull look-alikes in, disliked
ones push them out, each weighted by how fresh the verdict is, and by how little the topic says
itself (two typed words need the verdicts; a curated paragraph hardly does).

Everything is a matrix operation over many topics at once (:meth:`RelevanceModel.judge_many`),
so an edition's thousands of distinct topics cost a few sparse products, not a loop.

Three plain facts override the wording score: a subscriber's own distinctive phrase in the title
means the paper is about it; a followed author's paper belongs to the topic; an excluded word
keeps a paper out of the topic whatever else it says.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from newsletter.matching.authors import followed_author
from newsletter.matching.corpus import Corpus
from newsletter.matching.generic import generic_likeness
from newsletter.matching.papers import PaperLike, normalized_title
from newsletter.matching.query import QueryTerms, explain_terms, query_matrix, query_terms
from newsletter.matching.reference import padded_background
from newsletter.matching.semantic import SemanticIndex, wanted
from newsletter.preferences import Example, TopicSpec

# Relevance at or above this enters a digest, for every topic.
THRESHOLD = 0.5
# Standard deviations above the background mean at which a paper becomes relevant (fitted with
# topics held out: see ``make eval``).
Z_CUT = 1.6
# Say of the best-fitting papers' words in the widened query, against 1 for the topic's own
# (fitted with topics held out).
EXPANSION = 0.25
# How much of a paper's likeness to every topic at once (:mod:`newsletter.matching.generic`) is
# taken off its likeness to a topic (fitted with topics held out; 0 = none).
GENERIC = 1.0
# How many best-fitting papers widen a query: few, so that they are nearly all on topic.
EXPANSION_DEPTH = 5
# Weights of a reader's verdicts: likeness to the nearest liked paper pulls a paper up, likeness
# to the nearest disliked one pushes it down (in the topic's standard deviations once divided by
# its spread). Fitted with topics held out on the simulated reader (see ``make eval``).
LIKED_WEIGHT = 1.5
DISLIKED_WEIGHT = 1.5
# How much a topic's own words count against its verdicts: the verdicts' weights above are scaled
# by VERDICT_SAY / (VERDICT_SAY + the number of terms in the topic's query). Two typed words lean
# on the reader's verdicts; a curated paragraph already says what it wants, and look-alikes of a
# few liked papers would only pull in its neighbours (fitted with topics held out; 0 = no scaling).
VERDICT_SAY = 20.0
# Cosine at which a paper is another version of one the reader turned down (same abstract under
# a new title, a re-listing): it stays out like the paper itself.
DUPLICATE_COSINE = 0.8
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
SEMANTIC_Z_SHIFT = -0.2


@dataclass(frozen=True)
class Calibration:
    """The constants fitted on judged topics; the evaluation refits them with topics held out."""

    cut: float = Z_CUT
    expansion: float = EXPANSION
    generic: float = GENERIC
    liked: float = LIKED_WEIGHT
    disliked: float = DISLIKED_WEIGHT
    say: float = VERDICT_SAY

    def describe(self) -> str:
        return (
            f"cut={self.cut:.2f} expansion={self.expansion:.2f} generic={self.generic:.2f} "
            f"liked={self.liked:.2f} disliked={self.disliked:.2f} say={self.say:g}"
        )

    def verdict_share(self, query_terms: np.ndarray) -> np.ndarray:
        """Per topic, the share of the verdict weights its query's size leaves them."""
        if self.say <= 0:
            return np.ones(len(query_terms))
        return np.asarray(self.say / (self.say + query_terms))


def calibration_grid() -> list[Calibration]:
    """Candidate cuts, expansions and generic weights the evaluation fits among
    (leave-one-topic-out)."""
    cuts = [round(1.0 + 0.1 * k, 2) for k in range(9)]
    return [
        Calibration(cut, e, g) for g in (0.0, 0.5, 1.0) for e in (0.0, 0.25, 0.5) for cut in cuts
    ]


def feedback_grid() -> list[Calibration]:
    """Candidate verdict weights, fitted on the simulated reader with topics held out."""
    pairs = ((0.5, 0.75), (0.75, 0.75), (0.75, 1.5), (1.5, 0.75), (1.5, 1.5))
    return [
        Calibration(liked=liked, disliked=disliked, say=say)
        for say in (0.0, 10.0, 20.0)
        for liked, disliked in pairs
    ]


@dataclass(frozen=True)
class Judgement:
    relevance: float
    matched: tuple[str, ...] = ()
    followed: str | None = None
    liked: str | None = None  # the liked paper whose likeness drove the pick
    in_title: tuple[str, ...] = ()  # the subscriber's own phrases the title holds


def standardize(scores: np.ndarray, min_spread: float = 0.0) -> np.ndarray:
    """How many (floored) standard deviations each score stands above the column's mean."""
    if scores.size == 0:
        return scores
    spread = np.maximum(scores.std(axis=0), max(min_spread, 1e-12))
    return np.asarray((scores - scores.mean(axis=0)) / spread)


def to_relevance(z: np.ndarray, cut: float = Z_CUT) -> np.ndarray:
    """Standard deviations to 0..1, with ``cut`` landing exactly on THRESHOLD."""
    return np.asarray(1.0 / (1.0 + np.exp(-(z - cut) / Z_SCALE)))


def _dense(matrix: sp.spmatrix | np.ndarray) -> np.ndarray:
    if isinstance(matrix, np.ndarray):
        return np.asarray(matrix, dtype=np.float64)
    return np.asarray(matrix.toarray(), dtype=np.float64)


@dataclass
class Nearest:
    """For the topics of a batch that have verdicts of one kind: each paper's nearest one."""

    columns: np.ndarray  # which topics of the batch (columns) these are
    likeness: np.ndarray  # (rows, those topics): weighted cosine with the nearest example
    closest: np.ndarray  # (rows, those topics): plain cosine with the closest example
    which: np.ndarray  # (rows, those topics): index into ``titles``, -1 for none
    titles: list[str]


@dataclass
class TopicScores:
    """Many topics judged at once: relevance of every new paper (rows) for each topic (columns).

    Reasons are worked out only for the papers a digest shows (:meth:`judgement`).
    """

    model: RelevanceModel
    topics: list[TopicSpec]
    terms: list[QueryTerms]
    queries: sp.csr_matrix  # one unit query row per topic
    relevance: np.ndarray  # (new papers, topics)
    words: np.ndarray  # the topic's own words' cosine, (new papers, topics)
    liked: Nearest | None
    liked_weight: np.ndarray  # per topic with liked papers: the pull's weight
    followed: dict[tuple[int, int], str]

    @cached_property
    def _liked_at(self) -> dict[int, int]:
        return {} if self.liked is None else {int(c): k for k, c in enumerate(self.liked.columns)}

    def judgement(self, column: int, row: int) -> Judgement:
        value = float(self.relevance[row, column])
        if math.isnan(value) or value < THRESHOLD:
            return Judgement(0.0 if math.isnan(value) else value)
        hits = self.hits(column)
        return hits.judgement(int(np.searchsorted(hits.rows, row)))

    def judgements(self, column: int) -> list[Judgement]:
        return [self.judgement(column, row) for row in range(self.relevance.shape[0])]

    @cached_property
    def _followed_by(self) -> dict[int, dict[int, str]]:
        """Followed authors' papers per topic (column): row -> the author."""
        found: dict[int, dict[int, str]] = {}
        for (row, column), name in self.followed.items():
            found.setdefault(column, {})[row] = name
        return found

    def all_hits(self) -> list[TopicHits]:
        """Every topic's :meth:`hits`, read off the batch's arrays in a few whole-array steps.

        The selected rows of all topics come from one ``nonzero`` over the batch; each topic's
        record holds slices of those small arrays, not of the (papers x topics) matrices.
        """
        n_topics = self.relevance.shape[1]
        by_topic = self.relevance.T
        columns, rows = np.nonzero(by_topic >= THRESHOLD)  # by topic, then by row
        bounds = np.searchsorted(columns, np.arange(n_topics + 1)).tolist()
        relevance = by_topic[columns, rows]
        words = self.words.T[columns, rows]
        indptr = self.queries.indptr.tolist()
        indices, data = self.queries.indices, self.queries.data
        followed = self._followed_by
        liked_at = self._liked_at
        none: dict[int, str] = {}
        out = []
        for column in range(n_topics):
            a, b = bounds[column], bounds[column + 1]
            start, end = indptr[column], indptr[column + 1]
            liked: tuple[np.ndarray, np.ndarray, list[str]] | None = None
            k = liked_at.get(column)
            if self.liked is not None and k is not None:
                picked = rows[a:b]
                pull = self.liked_weight[k] * self.liked.likeness[picked, k]
                liked = (pull, self.liked.which[picked, k], self.liked.titles)
            out.append(
                TopicHits(
                    self.model.corpus,
                    self.terms[column],
                    indices[start:end],
                    data[start:end],
                    rows[a:b],
                    relevance[a:b],
                    words[a:b],
                    liked,
                    followed.get(column, none),
                )
            )
        return out

    def hits(self, column: int) -> TopicHits:
        """One topic's papers at or above the threshold, kept apart from the batch's matrices.

        An edition judges a million topics in batches; what each keeps is this small record,
        and the batch's (papers x topics) arrays can go.
        """
        rows = np.flatnonzero(self.relevance[:, column] >= THRESHOLD)
        start, end = self.queries.indptr[column], self.queries.indptr[column + 1]
        liked: tuple[np.ndarray, np.ndarray, list[str]] | None = None
        k = self._liked_at.get(column)
        if self.liked is not None and k is not None:
            pull = self.liked_weight[k] * self.liked.likeness[rows, k]
            liked = (pull, self.liked.which[rows, k], self.liked.titles)
        return TopicHits(
            self.model.corpus,
            self.terms[column],
            self.queries.indices[start:end].copy(),
            self.queries.data[start:end].copy(),
            rows,
            self.relevance[rows, column].copy(),
            self.words[rows, column].copy(),
            liked,
            dict(self._followed_by.get(column, {})),
        )


@dataclass(frozen=True)
class TopicHits:
    """The papers one topic selects, with what it takes to say why (worked out on demand)."""

    corpus: Corpus
    terms: QueryTerms
    q_columns: np.ndarray
    q_values: np.ndarray
    rows: np.ndarray  # new papers at or above the threshold
    relevance: np.ndarray
    words: np.ndarray  # the topic's own words' cosine with each of them
    liked: tuple[np.ndarray, np.ndarray, list[str]] | None  # pull, nearest index, titles
    followed: dict[int, str]

    def _query(self) -> list[tuple[int, float]]:
        """The query's terms as (column, weight) pairs, made per call and let go."""
        return list(zip(self.q_columns.tolist(), self.q_values.tolist(), strict=True))

    def judgements(self) -> list[Judgement]:
        """Why each selected paper was picked, in the order of ``rows``."""
        query = self._query()
        return [self._judgement(k, query) for k in range(len(self.rows))]

    def judgement(self, k: int) -> Judgement:
        """Why the ``k``-th selected paper was picked."""
        return self._judgement(k, self._query())

    def _judgement(self, k: int, query: list[tuple[int, float]]) -> Judgement:
        row = int(self.rows[k])
        matched, titled = explain_terms(self.terms, query, self.corpus, row)
        liked = None
        if self.liked is not None:
            pull, which, titles = self.liked
            if which[k] >= 0 and pull[k] > self.words[k]:
                liked = titles[int(which[k])]
        value = float(self.relevance[k])
        return Judgement(value, matched, self.followed.get(row), liked, titled)


class RelevanceModel:
    """Judges the papers of one run against any topics; built once, asked in batches."""

    def __init__(
        self,
        papers: Sequence[PaperLike],
        background: Sequence[PaperLike] = (),
        *,
        semantic: bool | str | None = None,
        calibration: Calibration | None = None,
    ) -> None:
        self.papers = list(papers)
        self.corpus = Corpus(self.papers, padded_background(self.papers, background))
        self.semantic = SemanticIndex(self.corpus.texts) if wanted(semantic) else None
        self.calibration = calibration or Calibration()
        self.matrix = sp.csr_matrix(self.corpus.matrix)
        n = len(self.papers)
        # Which terms each new paper holds, and which its title holds (0/1).
        self._new = sp.csr_matrix(self.matrix[:n] > 0, dtype=np.float64)
        self._titles = sp.csr_matrix(self.corpus.titles)
        self._index = {normalized_title(p.title): i for i, p in enumerate(self.papers)}

    def recalibrated(self, calibration: Calibration) -> RelevanceModel:
        """The same statistics under other constants (the evaluation's fitting)."""
        other = copy.copy(self)
        other.calibration = calibration
        return other

    @cached_property
    def _generic(self) -> np.ndarray:
        """Each pool and background paper's likeness to every topic at once."""
        return generic_likeness(self.corpus, self.matrix)

    @cached_property
    def _gram(self) -> np.ndarray:
        """Cosine of every pair of pool and background papers: how queries borrow words."""
        return np.asarray((self.matrix @ self.matrix.T).toarray(), dtype=np.float64)

    def _expanded(self, scores: np.ndarray) -> np.ndarray:
        """Scores of the query plus the centroid of its best-fitting papers (as matrix ops)."""
        weight = self.calibration.expansion
        n_rows, n_topics = scores.shape
        depth = min(EXPANSION_DEPTH, n_rows)
        if weight <= 0 or depth == 0 or n_topics == 0:
            return scores
        # Topics as rows from here on: partitioning and scaling run along contiguous memory.
        by_topic = np.ascontiguousarray(scores.T)
        top = np.argpartition(-by_topic, depth - 1, axis=1)[:, :depth]  # (topics, depth)
        rows = top.ravel()
        columns = np.repeat(np.arange(n_topics), depth)
        # Only papers that share words with the topic lend theirs: "sea ice" borrows nothing.
        share = np.where(by_topic[columns, rows] > 0, 1.0 / depth, 0.0)
        pick = sp.csr_matrix((share, (columns, rows)), shape=(n_topics, n_rows))
        centroid = np.asarray(pick @ self._gram)  # (topics, rows): cosine with the centroid
        own = np.bincount(columns, weights=share * centroid[columns, rows], minlength=n_topics)
        scale = weight / np.maximum(np.sqrt(np.maximum(own, 0.0)), 1e-12)
        centroid *= scale[:, None]
        return np.asarray(scores + centroid.T)

    def _examples(self, topics: Sequence[TopicSpec], which: str) -> Nearest | None:
        """Each paper's likeness to the nearest example of one kind, for topics that have any.

        The nearest, not the mean: a reader who liked papers on two sides of a topic wants
        look-alikes of either, and a mean would blur both.
        """
        examples: list[Example] = []
        owners: list[int] = []
        columns: list[int] = []
        for t, topic in enumerate(topics):
            chosen = getattr(topic, which)
            if chosen:
                columns.append(t)
            for example in chosen:
                examples.append(example)
                owners.append(len(columns) - 1)
        if not examples:
            return None
        sims = _dense(self.matrix @ self.corpus.embed(examples).T)  # (rows, examples)
        weights = np.array([e.weight for e in examples])
        likeness = np.zeros((sims.shape[0], len(columns)))
        closest = np.zeros((sims.shape[0], len(columns)))
        nearest = np.full((sims.shape[0], len(columns)), -1)
        for e, k in enumerate(owners):
            share = sims[:, e] * weights[e]
            better = share > likeness[:, k]
            likeness[better, k] = share[better]
            nearest[better, k] = e
            closest[:, k] = np.maximum(closest[:, k], sims[:, e])
        titles = [e.title for e in examples]
        return Nearest(np.array(columns), likeness, closest, nearest, titles)

    def _containing(
        self, where: sp.csr_matrix, per_topic: Sequence[tuple[tuple[int, ...], ...]]
    ) -> np.ndarray:
        """(papers, topics): does the paper hold every term of one of the topic's phrases?"""
        n_topics = len(per_topic)
        found = np.zeros((where.shape[0], n_topics), dtype=bool)
        rows: list[int] = []
        cols: list[int] = []
        owner: list[int] = []
        sizes: list[int] = []
        for t, phrases in enumerate(per_topic):
            for columns in phrases:
                k = len(sizes)
                rows.extend(columns)
                cols.extend([k] * len(columns))
                owner.append(t)
                sizes.append(len(columns))
        if not sizes:
            return found
        spell = sp.csr_matrix(
            (np.ones(len(rows)), (rows, cols)), shape=(where.shape[1], len(sizes))
        )
        hits = sp.coo_matrix(where @ spell)
        held = hits.data >= np.array(sizes)[hits.col]
        found[hits.row[held], np.array(owner)[hits.col[held]]] = True
        return found

    def judge_many(self, topics: Sequence[TopicSpec]) -> TopicScores:
        """Every new paper against every topic of ``topics``, in a handful of matrix products."""
        topics = list(topics)
        n = len(self.papers)
        terms = [query_terms(topic, self.corpus) for topic in topics]
        queries = query_matrix(terms, self.corpus)
        words = _dense(self.matrix @ queries.T)  # (pool + background, topics)
        liked = self._examples(topics, "liked")
        disliked = self._examples(topics, "disliked")
        # The topic's own (widened) words set the scale; verdicts only move papers along it, so
        # a cluster of liked look-alikes in the background cannot stretch the scale and hide
        # new papers. A paper moves by how much more (or less) it resembles the verdicts than a
        # typical paper does, both ways: one unlike everything disliked rises a little. Clipping
        # at the typical paper (moving look-alikes only) measured worse on the simulated reader
        # (gain with description +0.014, label + keywords +0.009, against +0.016 and +0.032).
        # Before widening, so that the papers lending the topic their words are about it, not
        # about everything.
        scores = words - self.calibration.generic * self._generic[:, None]
        base = self._expanded(scores)
        centre = base.mean(axis=0)
        spread = np.maximum(base.std(axis=0), MIN_SPREAD)
        z = (base - centre) / spread
        share = self.calibration.verdict_share(np.diff(queries.indptr))
        for verdicts, weight in (
            (liked, self.calibration.liked),
            (disliked, -self.calibration.disliked),
        ):
            if verdicts is not None:
                cols = verdicts.columns
                lift = verdicts.likeness - verdicts.likeness.mean(axis=0)
                z[:, cols] += weight * share[cols] * lift / spread[cols]
        cut = self.calibration.cut
        if self.semantic is not None:
            texts = [
                ". ".join(t for t in (s.label, ", ".join(s.keywords), s.description) if t)
                for s in topics
            ]
            meaning = SEMANTIC_WEIGHT * standardize(self.semantic.scores_many(texts))
            # The blend is rescaled to unit spread; a rare topic's spread floor still holds.
            spread = (standardize(words) + meaning).std(axis=0)
            z = (z + meaning) / np.maximum(spread, 1e-12)
            cut += SEMANTIC_Z_SHIFT
        relevance = to_relevance(z[:n], cut)
        if self.semantic is None:
            # A paper sharing no word with the topic or its widening is not about it, however
            # little it resembles other topics (its score is only minus its generic likeness).
            sharing = (words[:n] > 0) | (base[:n] > scores[:n])
            relevance = np.where(sharing, relevance, 0.0)
        titled = self._containing(self._titles, [t.in_title for t in terms])
        relevance = np.where(titled, np.maximum(relevance, TITLE_RELEVANCE), relevance)
        followed: dict[tuple[int, int], str] = {}
        for t, topic in enumerate(topics):
            if topic.authors:
                for i, paper in enumerate(self.papers):
                    author = followed_author(paper.authors or (), topic.authors)
                    if author is not None:
                        followed[(i, t)] = author
                        relevance[i, t] = max(relevance[i, t], FOLLOWED_RELEVANCE)
            for example in topic.disliked:  # the reader already said no to this very paper
                row = self._index.get(normalized_title(example.title))
                if row is not None:
                    relevance[row, t] = 0.0
        if disliked is not None:  # ... or to a near-duplicate of it (another version, a re-listing)
            copies = disliked.closest[:n] >= DUPLICATE_COSINE
            relevance[:, disliked.columns] = np.where(copies, 0.0, relevance[:, disliked.columns])
        barred = self._containing(self._new, [t.excluded for t in terms])
        relevance = np.where(barred, 0.0, np.nan_to_num(relevance))
        return TopicScores(
            self,
            topics,
            terms,
            queries,
            relevance,
            words[:n],
            liked,
            self.calibration.liked * share[liked.columns] if liked is not None else share[:0],
            followed,
        )

    def judge(self, topic: TopicSpec) -> list[Judgement]:
        """One topic's judgements of every new paper (a batch of one)."""
        return self.judge_many([topic]).judgements(0)
