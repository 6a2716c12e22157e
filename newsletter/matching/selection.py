"""From relevant papers to one subscriber's digest, with work shared between subscribers.

Everything expensive is cached per distinct topic and per distinct topic set, so a run costs
in proportion to the variety of interests, not to the number of people who hold them. The caches
are bounded (least recently used goes first): a million readers who each typed their own topic
must not keep a million scored topics alive, while the few thousand curated topics and topic
sets that recur in every batch of readers stay cached for the whole run.
"""

from __future__ import annotations

import copy
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import TypeVar

from cachetools import LRUCache

from newsletter.matching.papers import PaperLike
from newsletter.matching.ranking import blend, explain
from newsletter.matching.relevance import Calibration, RelevanceModel, TopicHits
from newsletter.matching.trending import trending
from newsletter.preferences import TopicSpec

K = TypeVar("K", bound=Hashable)

# Distinct topics judged in one batch: big enough for fast products, small enough for memory.
BATCH_TOPICS = 2000
# Judged topics kept at most: every distinct topic of a chunk of readers (``prepare``) must fit,
# or some would be evicted before they are read and judged again alone.
CACHE_SIZE = 20_000
# Ranked papers kept per topic and per topic set: only the recurring ones (curated topics and
# their combinations, a few thousand) are ever read twice, and an entry holds a scored paper per
# hit, so a run's memory does not follow its number of free-text readers.
RANKED_KEPT = 5_000


class Reasons:
    """One topic's why-lines, worked out only for the papers some digest shows, then kept.

    Ordering needs only the scores; saying why takes a look at the paper's words, which costs
    more than scoring. A topic clears the threshold for dozens of papers and a digest shows ten,
    so the lines are written on first use (and a free-text reader's topic is used once).
    """

    def __init__(self, label: str, hits: TopicHits) -> None:
        self.label = label
        self.hits = hits
        self._lines: dict[int, str] = {}

    def line(self, k: int) -> str:
        found = self._lines.get(k)
        if found is None:
            found = self._lines[k] = explain(self.label, self.hits.judgement(k))
        return found


@dataclass(frozen=True, slots=True)
class ScoredPaper:
    """A paper that clears the threshold for one topic, with what the digest needs to show it.

    Slotted: a build keeps one per hit of every cached topic (a third of the size with a dict).
    """

    paper: PaperLike
    relevance: float
    score: float
    topic: str
    reasons: Reasons
    k: int  # the paper's place among the topic's hits, for its why-line

    @property
    def why(self) -> str:
        return self.reasons.line(self.k)


@dataclass(frozen=True)
class DigestItem:
    paper_id: int | str
    score: float
    relevance: float
    topic: str
    why: str


@dataclass(frozen=True)
class Interest:
    """One subscriber's request; ``always_send`` is carried for the sender, not used here."""

    topics: tuple[TopicSpec, ...]
    size: int = 10
    exclude_ids: frozenset[int | str] = frozenset()
    always_send: bool = False


class Matcher:
    """Scores one batch of new papers against any number of subscribers' interests."""

    def __init__(
        self,
        papers: Sequence[PaperLike],
        *,
        now: datetime,
        background: Sequence[PaperLike] = (),
        semantic: bool | str | None = None,
        calibration: Calibration | None = None,
        cache_size: int = CACHE_SIZE,
    ) -> None:
        """``background``: older papers, for word and score statistics only (never selected).
        ``semantic``: blend in sentence embeddings (the ``semantic_matching`` setting: off, auto,
        on; or a bool). None means off. ``cache_size``: scored topics (and topic sets) kept.
        """
        self.papers = list(papers)
        self._model = RelevanceModel(
            self.papers, background, semantic=semantic, calibration=calibration
        )
        self._trending = [trending(paper, now) for paper in self.papers]
        self._cache_size = cache_size
        self._reset()

    def _reset(self) -> None:
        # Bounded: a run's memory must not follow its number of distinct topics (a million
        # free-text readers). An evicted entry is only judged again, never wrong.
        size = self._cache_size
        ranked = min(size, RANKED_KEPT)
        self._by_topic: LRUCache[tuple[TopicSpec, str], list[ScoredPaper]] = LRUCache(ranked)
        self._by_set: LRUCache[tuple[tuple[TopicSpec, str], ...], list[ScoredPaper]] = LRUCache(
            ranked
        )
        self._judged: LRUCache[tuple[TopicSpec, str], TopicHits] = LRUCache(size)

    @property
    def model(self) -> RelevanceModel:
        """The relevance statistics of this run's papers (the evaluation reads raw scores)."""
        return self._model

    def recalibrated(self, calibration: Calibration) -> Matcher:
        """The same papers and statistics under other fitted constants (for the evaluation)."""
        other = copy.copy(self)
        other._model = self._model.recalibrated(calibration)
        other._reset()
        return other

    def prepare(self, topics: Iterable[TopicSpec]) -> None:
        """Judge every not yet judged distinct topic in batches of matrix products.

        An edition calls this once with all its subscribers' topics; :meth:`select` then only
        reads the results. Reasons are worked out later, for the papers actually shown.
        """
        todo: dict[tuple[TopicSpec, str], TopicSpec] = {}
        for topic in topics:
            key = (topic, topic.description)  # the description is not part of a spec's equality
            if key not in self._by_topic and key not in self._judged:
                todo.setdefault(key, topic)
        keys = list(todo)
        for start in range(0, len(keys), BATCH_TOPICS):
            chunk = keys[start : start + BATCH_TOPICS]
            judged = self._model.judge_many([todo[key] for key in chunk])
            for key, hits in zip(chunk, judged.all_hits(), strict=True):
                self._judged[key] = hits

    def relevant(self, topic: TopicSpec) -> list[ScoredPaper]:
        """Papers clearing the threshold for ``topic``, best first (cached per distinct topic)."""
        key = (topic, topic.description)
        cached = self._by_topic.get(key)
        if cached is not None:
            return cached
        if key not in self._judged:
            self.prepare([topic])
        hits = self._judged.pop(key)
        reasons = Reasons(topic.label, hits)
        scored: list[ScoredPaper] = []
        for k, (row, relevance) in enumerate(
            zip(hits.rows.tolist(), hits.relevance.tolist(), strict=True)
        ):
            scored.append(
                ScoredPaper(
                    paper=self.papers[row],
                    relevance=relevance,
                    score=blend(relevance, self._trending[row]),
                    topic=topic.label,
                    reasons=reasons,
                    k=k,
                )
            )
        scored.sort(key=lambda s: (-s.score, -s.relevance, str(s.paper.id)))
        self._by_topic[key] = scored
        return scored

    def _ranked(self, topics: tuple[TopicSpec, ...]) -> list[ScoredPaper]:
        """All papers for a topic set, each once under its best topic, best first (cached)."""
        # One topic's papers are distinct and already in this order: nothing to merge.
        if len(topics) == 1:
            return self.relevant(topics[0])
        key = tuple((topic, topic.description) for topic in topics)
        cached = self._by_set.get(key)
        if cached is None:
            cached = self._by_set[key] = self._merged(topics)
        return cached

    def _merged(self, topics: tuple[TopicSpec, ...]) -> list[ScoredPaper]:
        """Each paper once, under the topic it fits best, best first."""
        best: dict[int | str, ScoredPaper] = {}
        for topic in topics:
            for hit in self.relevant(topic):
                held = best.get(hit.paper.id)
                if held is None or (hit.relevance, hit.score) > (held.relevance, held.score):
                    best[hit.paper.id] = hit
        return sorted(best.values(), key=lambda s: (-s.score, -s.relevance, str(s.paper.id)))

    def select(self, interest: Interest) -> list[DigestItem]:
        """The digest for one subscriber: never a paper already sent, at most ``size`` items."""
        if interest.size <= 0:
            return []
        shown: list[ScoredPaper] = []
        exclude = interest.exclude_ids
        for s in self._ranked(interest.topics):
            if exclude and s.paper.id in exclude:
                continue
            shown.append(s)
            if len(shown) >= interest.size:
                break
        return [DigestItem(s.paper.id, s.score, s.relevance, s.topic, s.why) for s in shown]


def iter_digests(
    papers: Sequence[PaperLike],
    interests: Iterable[tuple[K, Interest]],
    *,
    now: datetime,
    background: Sequence[PaperLike] = (),
    semantic: bool | str | None = None,
) -> Iterator[tuple[K, list[DigestItem]]]:
    """Streams digests so memory stays flat however many subscribers there are.

    Interests are judged a batch at a time: preparing more distinct topics than the matcher
    keeps would evict the first before they are read, and each would be judged again alone.
    """
    matcher = Matcher(papers, now=now, background=background, semantic=semantic)
    stream = iter(interests)
    while part := list(islice(stream, BATCH_TOPICS)):
        matcher.prepare(topic for _, interest in part for topic in interest.topics)
        for key, interest in part:
            yield key, matcher.select(interest)


def select_digests(
    papers: Sequence[PaperLike],
    interests: Mapping[K, Interest],
    *,
    now: datetime,
    background: Sequence[PaperLike] = (),
    semantic: bool | str | None = None,
) -> dict[K, list[DigestItem]]:
    """Every subscriber's digest at once; see :func:`iter_digests` to stream instead."""
    return dict(
        iter_digests(papers, interests.items(), now=now, background=background, semantic=semantic)
    )
