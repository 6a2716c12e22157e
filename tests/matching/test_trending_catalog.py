"""Trending in 0..1, and the catalog: form content the matcher never consults."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import newsletter.matching as matching
from newsletter.matching.catalog import CATALOG
from newsletter.matching.trending import popularity, recency, trending
from tests.matching.conftest import SPEECH

NOW = datetime(2026, 3, 10, tzinfo=UTC)


def test_popularity_rises_with_upvotes_but_saturates() -> None:
    values = [popularity(n) for n in (0, 1, 10, 30, 100, 1000)]
    assert values == sorted(values)
    assert values[0] == 0.0 and values[3] == 0.5 and values[-1] < 1.0


def test_recency_prefers_the_featured_day_and_decays() -> None:
    today = replace(SPEECH, featured_on=date(2026, 3, 10), published_at=datetime(2020, 1, 1))
    week = replace(SPEECH, featured_on=date(2026, 3, 3))
    assert recency(today, NOW) == 1.0
    assert recency(week, NOW) == 0.5
    assert 0.0 <= trending(week, NOW) <= 1.0


def test_catalog_offers_twenty_to_thirty_well_formed_topics() -> None:
    assert 20 <= len(CATALOG) <= 30
    assert len({t.id for t in CATALOG}) == len(CATALOG)
    for topic in CATALOG:
        spec = topic.spec
        assert spec.label == topic.label and spec.keywords
        assert topic.description.endswith(".") and topic.description.count(". ") == 0


def test_matching_reads_the_catalog_only_as_a_sample_of_the_field() -> None:
    """No topic is judged by looking it up in the catalog (a ticked topic is judged as if typed):
    the one module that reads it takes every entry alike, as the field's typical topics."""
    package = Path(matching.__file__).parent
    for source in package.glob("*.py"):
        if source.name not in ("catalog.py", "generic.py"):
            assert "catalog" not in source.read_text(), source.name
    generic = (package / "generic.py").read_text()
    assert "BY_ID" not in generic and ".id" not in generic
