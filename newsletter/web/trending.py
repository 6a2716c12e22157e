"""Today's top papers for the home page: the freshest listings, ordered by trending score."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from newsletter.matching.trending import trending
from newsletter.render.items import excerpt, paper_url
from newsletter.store.database import Database
from newsletter.store.models import Paper

RECENT_WINDOW = 300
SUMMARY_CHARS = 260


@dataclass(frozen=True)
class PaperCard:
    title: str
    url: str | None
    summary: str
    upvotes: int
    day: date | None


def trending_papers(db: Database, *, now: datetime, limit: int = 5) -> list[PaperCard]:
    """The top ``limit`` of the most recently seen papers, by upvotes and recency together."""
    with db.session() as session:
        recent: Sequence[Paper] = session.scalars(
            select(Paper).order_by(Paper.first_seen_at.desc(), Paper.id.desc()).limit(RECENT_WINDOW)
        ).all()
    ranked = sorted(recent, key=lambda p: trending(p, now), reverse=True)[:limit]
    return [_card(p) for p in ranked]


def _card(paper: Paper) -> PaperCard:
    day = paper.featured_on or (paper.published_at.date() if paper.published_at else None)
    return PaperCard(
        title=" ".join(paper.title.split()),
        url=paper_url(paper),
        summary=excerpt(paper.ai_summary or paper.abstract or "", SUMMARY_CHARS),
        upvotes=paper.upvotes or 0,
        day=day,
    )


class TrendingCache:
    """The home page's list, recomputed at most once a ``ttl``: it changes only when papers are
    ingested (hourly), and ranking a few hundred rows on every visit would dominate the page."""

    def __init__(self, ttl: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._value: list[PaperCard] | None = None
        self._at = 0.0
        self._lock = threading.Lock()

    def get(self, db: Database, *, now: datetime) -> list[PaperCard]:
        with self._lock:
            if self._value is None or self.clock() - self._at >= self.ttl:
                self._value = trending_papers(db, now=now)
                self._at = self.clock()
            return self._value
