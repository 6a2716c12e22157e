"""Each topic's whole selection from one pool: what ``newsletter match`` prints and the eval scores.

One function, so the command an operator runs and the evaluation measure the same code path as
digests: one :class:`Matcher` for the pool, every topic prepared in one batch, then each topic's
digest asked for with no size cap.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from newsletter.matching.papers import PaperLike
from newsletter.matching.selection import DigestItem, Interest, Matcher
from newsletter.preferences import TopicSpec


def select_per_topic(
    matcher: Matcher, topics: Sequence[tuple[str, TopicSpec]]
) -> dict[str, list[DigestItem]]:
    """Per topic id, every paper clearing the threshold, best first."""
    matcher.prepare([spec for _, spec in topics])
    size = len(matcher.papers)
    return {key: matcher.select(Interest(topics=(spec,), size=size)) for key, spec in topics}


def match_topics(
    papers: Sequence[PaperLike],
    topics: Sequence[tuple[str, TopicSpec]],
    *,
    now: datetime,
    background: Sequence[PaperLike] = (),
    semantic: bool | str | None = None,
) -> dict[str, list[DigestItem]]:
    """:func:`select_per_topic` on a fresh matcher for ``papers``."""
    matcher = Matcher(papers, now=now, background=background, semantic=semantic)
    return select_per_topic(matcher, topics)
