"""Trending counts only papers announced within the window: old fame is not today's news."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from newsletter.matching.trending import announced_within, trending
from tests.matching.conftest import SPEECH

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)


def test_old_papers_do_not_trend_however_many_upvotes() -> None:
    famous_old = replace(SPEECH, upvotes=900, featured_on=date(2024, 6, 11))
    quiet_new = replace(SPEECH, upvotes=0, featured_on=date(2026, 3, 10))
    assert trending(famous_old, NOW) == 0.0 and not announced_within(famous_old, NOW)
    assert trending(quiet_new, NOW) > 0.0 and announced_within(quiet_new, NOW)


def test_the_announcement_day_decides_not_the_publication_day() -> None:
    featured_today = replace(SPEECH, featured_on=date(2026, 3, 10),
                             published_at=datetime(2025, 1, 1, tzinfo=UTC))
    assert announced_within(featured_today, NOW)
    published_last_week = replace(SPEECH, featured_on=None,
                                  published_at=datetime(2026, 3, 4, tzinfo=UTC))
    assert announced_within(published_last_week, NOW)
    assert not announced_within(replace(SPEECH, featured_on=None, published_at=None), NOW)
