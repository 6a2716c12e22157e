"""The home page's trending list is honest: only papers announced in the window trend, each
shows its date, and only a list of today's papers is called today's."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient

from newsletter.store.database import Database
from newsletter.store.models import Paper
from newsletter.web.trending import LATEST, THIS_WEEK, TODAY, trending_papers

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
TODAY_DATE = NOW.date()


def add(db: Database, papers: Sequence[tuple[str, date | None, datetime | None, int]]) -> None:
    """(title, featured on HF, published, upvotes); every row stored *now*, as an ingest with
    ``--date`` stores year-old papers today."""
    with db.session() as session:
        session.add_all(
            Paper(source_id=f"p{n}", arxiv_id=f"2411.{n:05d}", title=title,
                  abstract=f"We propose method {n} for a problem.", authors=["Ada Lovelace"],
                  featured_on=featured, published_at=published, upvotes=upvotes,
                  sources=["hf"] if featured else ["arxiv"], categories=[], ai_keywords=[],
                  first_seen_at=NOW, updated_at=NOW)
            for n, (title, featured, published, upvotes) in enumerate(papers)
        )


def test_a_list_of_todays_papers_is_called_today(db: Database) -> None:
    add(db, [("Fresh", TODAY_DATE, None, 3), ("Also fresh", TODAY_DATE, None, 1),
             ("Famous but old", date(2024, 6, 11), None, 900)])
    found = trending_papers(db, now=NOW)
    assert found.heading == TODAY
    assert [c.title for c in found.papers] == ["Fresh", "Also fresh"]
    assert all(c.day == TODAY_DATE for c in found.papers)
    assert found.papers[0].url == "https://huggingface.co/papers/2411.00000"


def test_older_papers_of_the_window_make_it_this_weeks(db: Database) -> None:
    add(db, [("Today", TODAY_DATE, None, 1),
             ("Last week on arXiv", None, NOW - timedelta(days=5), 0),
             ("Stored today, announced a year ago", None, NOW - timedelta(days=365), 50)])
    found = trending_papers(db, now=NOW)
    assert found.heading == THIS_WEEK
    assert [(c.title, c.day) for c in found.papers] == [
        ("Today", TODAY_DATE), ("Last week on arXiv", (NOW - timedelta(days=5)).date())]


def test_without_recent_papers_the_latest_are_shown_as_latest(db: Database) -> None:
    add(db, [("June paper", date(2024, 6, 11), None, 61), ("Feb paper", None,
             datetime(2024, 2, 19, tzinfo=UTC), 0), ("Undated", None, None, 5)])
    found = trending_papers(db, now=NOW)
    assert found.heading == LATEST
    assert [(c.title, c.day) for c in found.papers] == [
        ("June paper", date(2024, 6, 11)), ("Feb paper", date(2024, 2, 19))]


def test_the_home_page_says_what_the_list_is_with_dates(
    db: Database, client: TestClient
) -> None:
    add(db, [("June paper", date(2024, 6, 11), None, 61)])
    page = client.get("/").text
    assert '<h2 id="trending-title">Latest papers</h2>' in page
    assert "Jun 11, 2024" in page and "Trending today" not in page
