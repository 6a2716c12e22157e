"""The paper upsert: one row per paper, merged across sources, idempotent, batched."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from newsletter.clock import as_utc
from newsletter.sources.records import ListedPaper, Skipped, make_record
from newsletter.store import papers
from newsletter.store.database import Database
from newsletter.store.models import Paper
from newsletter.store.papers import UpsertCounts, store_items, upsert_papers

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


def _hf(**overrides: Any) -> ListedPaper:
    values: dict[str, Any] = {
        "arxiv_id": "2406.06525",
        "title": "Autoregressive Model Beats Diffusion",
        "abstract": "We introduce LlamaGen.",
        "authors": ["Peize Sun", "Yi Jiang"],
        "github_url": "https://github.com/FoundationVision/LlamaGen",
        "github_stars": 1210,
        "ai_keywords": ["LlamaGen"],
        "published_at": datetime(2024, 6, 10, 17, 59, 52, tzinfo=UTC),
        "featured_on": date(2024, 6, 11),
        "upvotes": 61,
        "comments": 3,
    }
    values.update(overrides)
    return make_record("hf", **values)


def _arxiv(**overrides: Any) -> ListedPaper:
    values: dict[str, Any] = {
        "arxiv_id": "2406.06525v2",
        "title": "Autoregressive Model Beats Diffusion: Llama for Scalable Image Generation",
        "abstract": "A longer arXiv abstract.",
        "authors": ["Peize Sun", "Yi Jiang", "Shoufa Chen"],
        "categories": ["cs.CV", "cs.AI"],
        "published_at": datetime(2024, 6, 10, 17, 59, 52, tzinfo=UTC),
    }
    values.update(overrides)
    return make_record("arxiv", **values)


def _upsert(db: Database, *records: ListedPaper, now: datetime = NOW) -> UpsertCounts:
    with db.session() as session:
        return upsert_papers(session, list(records), now=now)


def _row(db: Database, source_id: str) -> Paper:
    with db.session() as session:
        paper = session.scalars(select(Paper).where(Paper.source_id == source_id)).one()
        session.expunge(paper)
        return paper


def _count(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(Paper)) or 0


def test_a_new_paper_is_inserted_with_every_field(db: Database) -> None:
    counts = _upsert(db, _hf())
    assert (counts.new, counts.updated, counts.unchanged) == (1, 0, 0)
    paper = _row(db, "2406.06525")
    assert paper.arxiv_id == "2406.06525" and paper.upvotes == 61 and paper.comments == 3
    assert paper.authors == ["Peize Sun", "Yi Jiang"] and paper.ai_keywords == ["LlamaGen"]
    assert paper.github_stars == 1210 and paper.featured_on == date(2024, 6, 11)
    assert paper.url == "https://arxiv.org/abs/2406.06525" and paper.sources == ["hf"]
    assert paper.published_at is not None
    assert as_utc(paper.published_at) == datetime(2024, 6, 10, 17, 59, 52, tzinfo=UTC)
    assert as_utc(paper.first_seen_at) == NOW


def test_ingesting_the_same_data_again_changes_nothing(db: Database) -> None:
    _upsert(db, _hf(), _arxiv(arxiv_id="2406.00001", title="Other"))
    counts = _upsert(db, _hf(), _arxiv(arxiv_id="2406.00001", title="Other"), now=LATER)
    assert (counts.new, counts.updated, counts.unchanged) == (0, 0, 2)
    assert as_utc(_row(db, "2406.06525").updated_at) == NOW


def test_new_upvotes_update_the_paper(db: Database) -> None:
    _upsert(db, _hf())
    counts = _upsert(db, _hf(upvotes=80, comments=5, github_stars=1300), now=LATER)
    assert (counts.new, counts.updated) == (0, 1)
    paper = _row(db, "2406.06525")
    assert (paper.upvotes, paper.comments, paper.github_stars) == (80, 5, 1300)
    assert as_utc(paper.updated_at) == LATER
    assert as_utc(paper.first_seen_at) == NOW


def test_counts_never_go_down_and_the_latest_featured_day_wins(db: Database) -> None:
    _upsert(db, _hf(upvotes=80, featured_on=date(2024, 6, 12)))
    counts = _upsert(db, _hf(upvotes=10, featured_on=date(2024, 6, 11)), now=LATER)
    assert counts.unchanged == 1
    paper = _row(db, "2406.06525")
    assert (paper.upvotes, paper.featured_on) == (80, date(2024, 6, 12))


def test_the_same_paper_from_two_sources_is_one_merged_row(db: Database) -> None:
    _upsert(db, _hf())
    counts = _upsert(db, _arxiv(), now=LATER)
    assert (counts.new, counts.updated) == (0, 1)
    assert _count(db) == 1
    paper = _row(db, "2406.06525")
    assert paper.sources == ["hf", "arxiv"]
    assert paper.title == "Autoregressive Model Beats Diffusion"  # kept, not overwritten
    assert paper.authors == ["Peize Sun", "Yi Jiang"]
    assert paper.categories == ["cs.CV", "cs.AI"]  # filled from arXiv
    assert paper.upvotes == 61 and paper.github_url is not None  # kept from HF


def test_missing_fields_are_filled_by_a_later_source(db: Database) -> None:
    _upsert(db, _arxiv())
    _upsert(db, _hf(), now=LATER)
    paper = _row(db, "2406.06525")
    assert paper.sources == ["arxiv", "hf"]
    assert paper.upvotes == 61 and paper.github_stars == 1210 and paper.ai_keywords == ["LlamaGen"]
    assert paper.featured_on == date(2024, 6, 11)
    assert paper.title.endswith("Scalable Image Generation")  # the first listing's title


def test_duplicates_within_a_batch_are_merged(db: Database) -> None:
    counts = _upsert(db, _hf(upvotes=5), _arxiv(), _hf(upvotes=9))
    assert (counts.new, counts.updated, counts.unchanged) == (1, 0, 0)
    paper = _row(db, "2406.06525")
    assert paper.upvotes == 9 and paper.sources == ["hf", "arxiv"]


def test_streams_are_stored_in_batches_with_skips_counted(db: Database) -> None:
    records = [make_record("file", title=f"Paper number {n}", upvotes=n) for n in range(1234)]
    items: list[ListedPaper | Skipped] = [*records, Skipped("file", "line 9", "missing title")]
    progress: list[int] = []
    counts = store_items(db, items, now=NOW, batch_size=500, on_progress=progress.append)
    assert (counts.new, counts.skipped) == (1234, 1)
    assert [str(s) for s in counts.reasons] == ["file line 9: missing title"]
    assert progress == [500, 500, 235]
    again = store_items(db, records, now=LATER, batch_size=500)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 1234)
    assert _count(db) == 1234


def test_a_paper_inserted_meanwhile_by_another_run_is_merged(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between our SELECT and our INSERT another process stores the paper: we merge instead."""
    real = papers.record_values
    raced: list[bool] = []

    def racing(record: ListedPaper) -> dict[str, Any]:
        if not raced:
            raced.append(True)
            with db.session() as other:
                upsert_papers(other, [_arxiv()], now=NOW)
        return real(record)

    monkeypatch.setattr(papers, "record_values", racing)
    counts = store_items(db, [_hf()], now=LATER)
    assert (counts.new, counts.updated) == (0, 1)
    assert _row(db, "2406.06525").sources == ["arxiv", "hf"]
