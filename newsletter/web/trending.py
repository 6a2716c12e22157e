"""The home page's trending list: papers announced in the last days, each with its date.

Only papers announced within the trending window are called trending, and only a list made
entirely of today's papers is called "today's". When nothing recent is stored (an offline
install with the bundled sample), the newest papers are shown as what they are: the latest
ones, with their dates, however old.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from newsletter.announced import announced_on
from newsletter.matching.trending import trending, window_start
from newsletter.render.links import page_url
from newsletter.render.summary import one_line_summary
from newsletter.store.database import Database
from newsletter.store.models import Paper

# How many of the window's most upvoted papers are ranked (upvotes and recency together).
RANKED = 300
TODAY = "Trending today"
THIS_WEEK = "Trending this week"
LATEST = "Latest papers"


@dataclass(frozen=True)
class PaperCard:
    title: str
    url: str
    summary: str
    upvotes: int
    day: date | None


@dataclass(frozen=True)
class TrendingList:
    heading: str
    papers: list[PaperCard] = field(default_factory=list)


def trending_papers(db: Database, *, now: datetime, limit: int = 5) -> TrendingList:
    """The top ``limit`` papers announced in the window; else the latest ``limit`` papers."""
    since = window_start(now)
    start = datetime(since.year, since.month, since.day, tzinfo=UTC)
    in_window = or_(
        Paper.featured_on >= since,
        and_(Paper.featured_on.is_(None), Paper.published_at >= start),
    )
    with db.session() as session:
        recent = session.scalars(
            select(Paper).where(in_window)
            .order_by(Paper.upvotes.desc(), Paper.id.desc()).limit(RANKED)
        ).all()
        if not recent:
            return TrendingList(LATEST, [_card(p) for p in _latest(session, limit)])
        ranked = sorted(recent, key=lambda p: (-trending(p, now), -p.id))[:limit]
        cards = [_card(p) for p in ranked]
    today = now.astimezone(UTC).date()
    all_today = all(card.day is not None and card.day >= today for card in cards)
    return TrendingList(TODAY if all_today else THIS_WEEK, cards)


def _latest(session: Session, limit: int) -> list[Paper]:
    """The most recently announced papers, however old (papers without a date are left out)."""
    featured = session.scalars(
        select(Paper).where(Paper.featured_on.is_not(None))
        .order_by(Paper.featured_on.desc(), Paper.id.desc()).limit(limit)
    ).all()
    published = session.scalars(
        select(Paper).where(Paper.featured_on.is_(None), Paper.published_at.is_not(None))
        .order_by(Paper.published_at.desc(), Paper.id.desc()).limit(limit)
    ).all()
    both = [*featured, *published]
    return sorted(both, key=lambda p: (_day(p) or date.min, p.upvotes or 0), reverse=True)[:limit]


def _day(paper: Paper) -> date | None:
    return announced_on(paper.featured_on, paper.published_at)


def _card(paper: Paper) -> PaperCard:
    return PaperCard(
        title=" ".join(paper.title.split()),
        url=page_url(paper),
        summary=one_line_summary(paper.ai_summary, paper.abstract or ""),
        upvotes=paper.upvotes or 0,
        day=_day(paper),
    )


class TrendingCache:
    """The home page's list, recomputed at most once a ``ttl``: it changes only when papers are
    ingested (hourly), and ranking a few hundred rows on every visit would dominate the page."""

    def __init__(self, ttl: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._value: TrendingList | None = None
        self._at = 0.0
        self._lock = threading.Lock()

    def get(self, db: Database, *, now: datetime) -> TrendingList:
        with self._lock:
            if self._value is None or self.clock() - self._at >= self.ttl:
                self._value = trending_papers(db, now=now)
                self._at = self.clock()
            return self._value
