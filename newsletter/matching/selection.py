"""From relevant papers to one subscriber's digest, with work shared between subscribers.

Everything expensive is cached per distinct topic and per distinct topic set, so a run costs
in proportion to the variety of interests, not to the number of people who hold them. The caches
are bounded (least recently used goes first): a million readers who each typed their own topic
must not keep a million scored topics alive, while the few thousand curated topics and topic
sets that recur in every batch of readers stay cached for the whole run.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from cachetools import LRUCache

from newsletter.matching.papers import PaperLike
from newsletter.matching.ranking import blend, explain
from newsletter.matching.relevance import THRESHOLD, RelevanceModel
from newsletter.matching.trending import trending
from newsletter.preferences import TopicSpec

K = TypeVar("K", bound=Hashable)

# Scored topics and topic sets kept at most. Large enough for every distinct topic of one batch
# (``prepare``) plus the recurring ones; small enough that a run's memory does not follow its
# number of distinct topics (an entry is a few kilobytes).
CACHE_SIZE = 20_000


@dataclass(frozen=True)
class ScoredPaper:
    """A paper that clears the threshold for one topic, with what the digest needs to show it."""

    paper: PaperLike
    relevance: float
    score: float
    topic: str
    why: str


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
        cache_size: int = CACHE_SIZE,
    ) -> None:
        """``background``: older papers, for word and score statistics only (never selected).
        ``semantic``: blend in sentence embeddings (the ``semantic_matching`` setting: off, auto,
        on; or a bool). None means off. ``cache_size``: scored topics (and topic sets) kept.
        """
        self.papers = list(papers)
        self._model = RelevanceModel(self.papers, background, semantic=semantic)
        self._trending = [trending(paper, now) for paper in self.papers]
        self._by_topic: LRUCache[tuple[TopicSpec, str], list[ScoredPaper]] = LRUCache(cache_size)
        self._by_set: LRUCache[tuple[tuple[TopicSpec, str], ...], list[DigestItem]] = LRUCache(
            cache_size
        )

    def prepare(self, topics: Sequence[TopicSpec]) -> None:
        """Score every topic of a batch of readers before their digests are asked for.

        The seam for scoring many topics in one go: an edition calls it once per chunk of
        subscribers with the chunk's distinct topics, then ``select`` finds them cached. Topics
        already cached are skipped. Give it fewer distinct topics than ``cache_size``, or the
        first ones are evicted before they are used (still correct, scored twice).
        """
        for topic in topics:
            self.relevant(topic)

    def relevant(self, topic: TopicSpec) -> list[ScoredPaper]:
        """Papers clearing the threshold for ``topic``, best first (cached per distinct topic)."""
        key = (topic, topic.description)  # the description is not part of a spec's equality
        cached = self._by_topic.get(key)
        if cached is not None:
            return cached
        scored: list[ScoredPaper] = []
        judged = self._model.judge(topic)
        for paper, heat, judgement in zip(self.papers, self._trending, judged, strict=True):
            if judgement.relevance < THRESHOLD:
                continue
            scored.append(
                ScoredPaper(
                    paper=paper,
                    relevance=judgement.relevance,
                    score=blend(judgement.relevance, heat),
                    topic=topic.label,
                    why=explain(topic.label, judgement),
                )
            )
        scored.sort(key=lambda s: (-s.score, -s.relevance, str(s.paper.id)))
        self._by_topic[key] = scored
        return scored

    def _ranked(self, topics: tuple[TopicSpec, ...]) -> list[DigestItem]:
        """All papers for a topic set, each once under its best topic, best first (cached)."""
        key = tuple((topic, topic.description) for topic in topics)
        cached = self._by_set.get(key)
        if cached is not None:
            return cached
        best: dict[int | str, ScoredPaper] = {}
        for topic in topics:
            for hit in self.relevant(topic):
                held = best.get(hit.paper.id)
                if held is None or (hit.relevance, hit.score) > (held.relevance, held.score):
                    best[hit.paper.id] = hit
        ordered = sorted(best.values(), key=lambda s: (-s.score, -s.relevance, str(s.paper.id)))
        items = [DigestItem(s.paper.id, s.score, s.relevance, s.topic, s.why) for s in ordered]
        self._by_set[key] = items
        return items

    def select(self, interest: Interest) -> list[DigestItem]:
        """The digest for one subscriber: never a paper already sent, at most ``size`` items."""
        if interest.size <= 0:
            return []
        chosen: list[DigestItem] = []
        for item in self._ranked(interest.topics):
            if item.paper_id in interest.exclude_ids:
                continue
            chosen.append(item)
            if len(chosen) >= interest.size:
                break
        return chosen


def iter_digests(
    papers: Sequence[PaperLike],
    interests: Iterable[tuple[K, Interest]],
    *,
    now: datetime,
    background: Sequence[PaperLike] = (),
    semantic: bool | str | None = None,
) -> Iterator[tuple[K, list[DigestItem]]]:
    """Streams digests so memory stays flat however many subscribers there are."""
    matcher = Matcher(papers, now=now, background=background, semantic=semantic)
    for key, interest in interests:
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
