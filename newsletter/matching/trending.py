"""How "hot" a paper is right now, independent of any subscriber.

Trending only reorders papers that are already relevant: it is a value in 0..1 that the ranking
blends in with a small weight, so a popular paper never enters a digest on popularity alone.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

from newsletter.matching.papers import PaperLike

# Upvotes at which popularity reaches one half; Hugging Face daily papers rarely pass a few hundred.
HALF_POPULARITY_UPVOTES = 30.0
# Days after which recency has halved: a daily digest cares about this week, not last month.
RECENCY_HALF_LIFE_DAYS = 7.0
# A paper with no date at all is treated as neither new nor old.
UNKNOWN_RECENCY = 0.25


def popularity(upvotes: int) -> float:
    """Log-scaled so that the hundredth upvote counts less than the tenth."""
    votes = math.log1p(max(upvotes, 0))
    return votes / (votes + math.log1p(HALF_POPULARITY_UPVOTES))


def _as_datetime(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def paper_date(paper: PaperLike) -> datetime | None:
    """Featured day first: that is when the paper trended, which is what a digest reports."""
    if paper.featured_on is not None:
        return _as_datetime(paper.featured_on)
    if paper.published_at is not None:
        return _as_datetime(paper.published_at)
    return None


def recency(paper: PaperLike, now: datetime) -> float:
    when = paper_date(paper)
    if when is None:
        return UNKNOWN_RECENCY
    age_days = max((_as_datetime(now) - when).total_seconds() / 86400.0, 0.0)
    return float(0.5 ** (age_days / RECENCY_HALF_LIFE_DAYS))


def trending(paper: PaperLike, now: datetime) -> float:
    """Equal parts popularity and freshness, in 0..1."""
    return 0.5 * popularity(paper.upvotes or 0) + 0.5 * recency(paper, now)
