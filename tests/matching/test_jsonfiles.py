"""Reading the shared papers format: stable ids, dates as listings print them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from newsletter.matching import title_id
from newsletter.matching.jsonfiles import load_papers, load_topics, parse_published

NOW = datetime(2026, 3, 10, tzinfo=UTC)


def test_ids_come_from_the_normalised_title() -> None:
    assert title_id("GPTQ: Accurate  Post-Training Quantization") == title_id(
        "gptq accurate post training quantization"
    )
    assert title_id("GPTQ") != title_id("GPT-Q2")


def test_listing_dates_with_and_without_a_year() -> None:
    assert parse_published("Feb 19, 2024", NOW) == datetime(2024, 2, 19, tzinfo=UTC)
    assert parse_published("Mar 2", NOW) == datetime(2026, 3, 2, tzinfo=UTC)
    assert parse_published("Jun 22", NOW) == datetime(2025, 6, 22, tzinfo=UTC)  # not in future
    assert parse_published("2025-01-05", NOW) == datetime(2025, 1, 5, tzinfo=UTC)
    assert parse_published("", NOW) is None


def test_papers_load_once_per_title_with_optional_fields(tmp_path: Path) -> None:
    rows = [
        {"title": "A study", "abstract": "x", "upvotes": 4, "published": "Feb 1, 2025"},
        {"title": "a  STUDY", "abstract": "repeat listing"},
        {"title": "Other", "abstract": "y", "authors": ["Jane Doe"], "id": 7},
    ]
    path = tmp_path / "p.json"
    path.write_text(json.dumps(rows))
    papers = load_papers(path, now=NOW)
    assert [p.id for p in papers] == [title_id("A study"), 7]
    assert papers[0].upvotes == 4 and papers[0].abstract == "x"
    assert papers[1].authors == ("Jane Doe",)


def test_topics_carry_ids_and_specs(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(
        json.dumps(
            {"topics": [{"id": "a", "label": "x", "keywords": ["k1", "k2"], "description": "d"}]}
        )
    )
    (topic,) = load_topics(path)
    assert topic.id == "a"
    assert topic.spec.keywords == ("k1", "k2")
    assert topic.spec.description == "d"
