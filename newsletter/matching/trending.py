"""How "hot" a paper is right now, independent of any subscriber.

Trending only reorders papers that are already relevant: it is a value in 0..1 that the ranking
blends in with a small weight, so a popular paper never enters a digest on popularity alone.
Only papers announced within :data:`WINDOW_DAYS` trend at all: last year's 500 upvotes say
nothing about today, and a paper stored today but announced long ago is not today's news.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

from newsletter.announced import announced_on
from newsletter.matching.papers import PaperLike

# Upvotes at which popularity reaches one half; Hugging Face daily papers rarely pass a few hundred.
HALF_POPULARITY_UPVOTES = 30.0
# Days after which recency has halved: a daily digest cares about this week, not last month.
RECENCY_HALF_LIFE_DAYS = 7.0
# A paper with no date at all is treated as neither new nor old.
UNKNOWN_RECENCY = 0.25
# Announced longer ago than this (a weekly digest's reach), a paper does not trend.
WINDOW_DAYS = 7


def popularity(upvotes: int) -> float:
    """Log-scaled so that the hundredth upvote counts less than the tenth."""
    votes = math.log1p(max(upvotes, 0))
    return votes / (votes + math.log1p(HALF_POPULARITY_UPVOTES))


def _as_datetime(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def paper_day(paper: PaperLike) -> date | None:
    return announced_on(paper.featured_on, paper.published_at)


def paper_date(paper: PaperLike) -> datetime | None:
    """The announcement day as a moment (midnight UTC), for ages in days."""
    day = paper_day(paper)
    return _as_datetime(day) if day is not None else None


def window_start(now: datetime, days: int = WINDOW_DAYS) -> date:
    """The first announcement day that still counts as recent at ``now``."""
    return _as_datetime(now).date() - timedelta(days=days)


def announced_within(paper: PaperLike, now: datetime, days: int = WINDOW_DAYS) -> bool:
    """Known to be announced in the last ``days`` days (a date in the future counts as today)."""
    day = paper_day(paper)
    return day is not None and day >= window_start(now, days)


def recency(paper: PaperLike, now: datetime) -> float:
    when = paper_date(paper)
    if when is None:
        return UNKNOWN_RECENCY
    age_days = max((_as_datetime(now) - when).total_seconds() / 86400.0, 0.0)
    return float(0.5 ** (age_days / RECENCY_HALF_LIFE_DAYS))


def trending(paper: PaperLike, now: datetime) -> float:
    """Equal parts popularity and freshness, in 0..1; zero once out of the window."""
    day = paper_day(paper)
    if day is not None and day < window_start(now):
        return 0.0
    return 0.5 * popularity(paper.upvotes or 0) + 0.5 * recency(paper, now)
