"""Files: the shared JSON listing (no ids, loose dates) and streamed JSON Lines."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsletter.errors import SourceError
from newsletter.sources.configured import sample_path
from newsletter.sources.files import FileSource
from newsletter.sources.records import ListedPaper, Skipped, title_key

SHARED = Path("/work/shared/data/papers.json")
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _records(path: Path) -> list[ListedPaper]:
    items = list(FileSource(path, now=NOW).items())
    assert all(isinstance(i, ListedPaper) for i in items), [
        i for i in items if isinstance(i, Skipped)
    ]
    return [i for i in items if isinstance(i, ListedPaper)]


def test_the_bundled_sample_is_the_shared_listing() -> None:
    assert sample_path().is_file()
    if SHARED.exists():
        assert sample_path().read_bytes() == SHARED.read_bytes()


def test_the_sample_reads_as_272_distinct_papers() -> None:
    records = _records(sample_path())
    assert len(records) == 272
    assert len({r.source_id for r in records}) == 272
    first = records[0]
    assert first.source_id == title_key(first.title) and first.arxiv_id is None
    assert first.title.startswith("Emulated Disalignment")
    assert first.published_at == datetime(2024, 2, 19, tzinfo=UTC)
    assert sum(1 for r in records if r.upvotes) == 27
    assert all(r.published_at is None or r.published_at <= NOW for r in records)


def test_dates_without_a_year_are_the_latest_past_one(tmp_path: Path) -> None:
    path = tmp_path / "papers.json"
    path.write_text(
        json.dumps([{"title": "A", "published": "Jun 22"}, {"title": "B", "published": "Mar 9"}])
    )
    a, b = _records(path)
    assert a.published_at == datetime(2025, 6, 22, tzinfo=UTC)
    assert b.published_at == datetime(2026, 3, 9, tzinfo=UTC)


def test_json_lines_are_read_line_by_line_and_bad_lines_reported(tmp_path: Path) -> None:
    path = tmp_path / "papers.jsonl"
    lines = [
        json.dumps({"title": "First", "abstract": "a", "upvotes": 3, "arxiv_id": "2401.00001v2"}),
        "",
        "{not json",
        json.dumps({"abstract": "no title"}),
        json.dumps(["a", "list"]),
        json.dumps({"title": "Second", "authors": ["Ann Lee"], "featured_on": "2026-03-09"}),
        json.dumps({"title": "Third", "published": "someday"}),
    ]
    path.write_text("\n".join(lines) + "\n")
    source = FileSource(path, now=NOW)
    assert source.expected_count() == 6
    items = list(source.items())
    assert [str(i) for i in items if isinstance(i, Skipped)] == [
        "file line 3: not JSON (Expecting property name enclosed in double quotes)",
        "file line 4: missing title",
        "file line 5: must be a JSON object",
        "file line 7 ('Third'): published is not an ISO date: 'someday'",
    ]
    first, second = (i for i in items if isinstance(i, ListedPaper))
    assert (first.source_id, first.upvotes) == ("2401.00001", 3)
    assert second.authors == ("Ann Lee",) and str(second.featured_on) == "2026-03-09"


def test_a_missing_or_unreadable_file_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="cannot read file"):
        list(FileSource(tmp_path / "nope.json", now=NOW).items())
    (tmp_path / "broken.json").write_text("[{]")
    with pytest.raises(SourceError, match="not JSON"):
        list(FileSource(tmp_path / "broken.json", now=NOW).items())
    (tmp_path / "text.txt").write_text("hello")
    with pytest.raises(SourceError, match="neither a JSON list nor JSON Lines"):
        list(FileSource(tmp_path / "text.txt", now=NOW).items())
    (tmp_path / "latin1.jsonl").write_bytes(b'{"title": "caf\xe9"}\n')
    with pytest.raises(SourceError, match="not UTF-8"):
        list(FileSource(tmp_path / "latin1.jsonl", now=NOW).items())
