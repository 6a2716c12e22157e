"""Normalization and validation shared by every source: the one place bad data is refused."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from newsletter.errors import BadItem
from newsletter.sources.dates import parse_iso, parse_listing_date, parse_rfc2822
from newsletter.sources.plaintext import plain_text
from newsletter.sources.records import make_record, normalize_arxiv_id, title_key

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2401.12345", "2401.12345"),
        ("2401.12345v2", "2401.12345"),
        ("0704.0001v1", "0704.0001"),
        ("http://arxiv.org/abs/2406.06525v1", "2406.06525"),
        ("https://arxiv.org/pdf/2406.06525", "2406.06525"),
        ("oai:arXiv.org:2203.01250v3", "2203.01250"),
        ("arXiv:2406.06469v1", "2406.06469"),
        ("hep-ex/0307015v1", "hep-ex/0307015"),
        ("http://arxiv.org/abs/math.GT/0309136v2", "math.GT/0309136"),
        ("not-an-id", None),
        ("12345", None),
        ("", None),
    ],
)
def test_arxiv_ids_lose_their_version(raw: str, expected: str | None) -> None:
    assert normalize_arxiv_id(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<p>One</p><p>Two &amp; three</p>", "One Two & three"),
        ("An <i>italic</i> word<br/>and a <a href='x'>link</a>", "An italic word and a link"),
        ("<script>alert(1)</script>Safe <style>p{}</style>text", "Safe text"),
        ("for $n<k$ and $m>j$ it holds", "for $n<k$ and $m>j$ it holds"),
        ("short dialogues (<8 turns) and p<0.05", "short dialogues (<8 turns) and p<0.05"),
        ("escaped &lt;b&gt; stays text", "escaped <b> stays text"),
        ("  hard\n  wrapped\tlines  ", "hard wrapped lines"),
        ("National Center for Missing \\& Exploited", "National Center for Missing \\& Exploited"),
    ],
)
def test_plain_text_removes_only_html(raw: str, expected: str) -> None:
    assert plain_text(raw) == expected


def test_title_key_ignores_case_spacing_and_punctuation() -> None:
    key = title_key("Attention Is All You Need")
    assert key == title_key("  attention is all   you need! ")
    assert key == title_key("Attention: is all you need?")
    assert key.startswith("title:") and len(key) == len("title:") + 16
    assert key != title_key("Attention Is Not All You Need")


def test_a_record_is_keyed_by_arxiv_id_then_own_id_then_title() -> None:
    assert make_record("hf", title="T", arxiv_id="2401.00001v3").source_id == "2401.00001"
    assert make_record("hf", title="T", own_id="abc").source_id == "hf:abc"
    assert make_record("file", title="T").source_id == title_key("T")


def test_arxiv_records_get_canonical_links() -> None:
    record = make_record("arxiv", title="T", arxiv_id="2401.00001v2")
    assert record.url == "https://arxiv.org/abs/2401.00001"
    assert record.pdf_url == "https://arxiv.org/pdf/2401.00001"


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"title": None}, "missing title"),
        ({"title": "   "}, "missing title"),
        ({"title": 42}, "title must be a string"),
        ({"title": "x" * 1001}, "title is longer than 1000"),
        ({"title": "T", "abstract": "y" * 20_001}, "abstract is longer than 20000"),
        ({"title": "T", "abstract": "<p>" * 30_000}, "abstract is longer than 20000"),
        ({"title": "T", "upvotes": "12"}, "upvotes must be a non-negative integer"),
        ({"title": "T", "upvotes": -1}, "upvotes must be a non-negative integer"),
        ({"title": "T", "upvotes": True}, "upvotes must be a non-negative integer"),
        ({"title": "T", "authors": "Ann, Bo"}, "authors must be a list of strings"),
        ({"title": "T", "authors": ["Ann", 7]}, "authors must be a list of strings"),
        ({"title": "T", "url": 5}, "url must be a string URL"),
    ],
)
def test_bad_values_are_refused_with_a_reason(fields: dict[str, object], reason: str) -> None:
    with pytest.raises(BadItem, match=reason):
        make_record("file", **fields)  # type: ignore[arg-type]


def test_unusable_links_are_dropped_not_the_paper() -> None:
    record = make_record(
        "hf", title="T", github_url="javascript:alert(1)", project_url="https://x.org/" + "a" * 600
    )
    assert record.github_url is None and record.project_url is None


def test_html_is_stripped_from_title_and_abstract() -> None:
    record = make_record("hf", title="<b>Bold</b> idea", abstract="<p>Line one</p><p>two</p>")
    assert (record.title, record.abstract) == ("Bold idea", "Line one two")


def test_listing_dates_without_a_year_are_the_latest_past_one() -> None:
    assert parse_listing_date("Feb 19, 2024", "d", now=NOW) == datetime(2024, 2, 19, tzinfo=UTC)
    assert parse_listing_date("Mar 2", "d", now=NOW) == datetime(2026, 3, 2, tzinfo=UTC)
    assert parse_listing_date("Mar 10", "d", now=NOW) == datetime(2026, 3, 10, tzinfo=UTC)
    assert parse_listing_date("Jun 22", "d", now=NOW) == datetime(2025, 6, 22, tzinfo=UTC)
    assert parse_listing_date("Feb 29", "d", now=NOW) == datetime(2024, 2, 29, tzinfo=UTC)
    assert parse_listing_date("2024-05-01", "d", now=NOW) == datetime(2024, 5, 1, tzinfo=UTC)
    assert parse_listing_date(None, "d", now=NOW) is None
    with pytest.raises(BadItem, match="not an ISO date"):
        parse_listing_date("someday", "d", now=NOW)


def test_timestamps_are_stored_in_utc() -> None:
    paris = timezone(timedelta(hours=2))
    assert parse_iso("2024-06-10T17:59:52.000Z", "p") == datetime(
        2024, 6, 10, 17, 59, 52, tzinfo=UTC
    )
    assert parse_iso("2024-06-10T19:00:00+02:00", "p") == datetime(2024, 6, 10, 17, tzinfo=UTC)
    assert parse_rfc2822("Tue, 11 Jun 2024 00:00:00 -0400", "p") == datetime(
        2024, 6, 11, 4, tzinfo=UTC
    )
    record = make_record("x", title="T", published_at=datetime(2024, 1, 1, 2, tzinfo=paris))
    assert record.published_at == datetime(2024, 1, 1, 0, tzinfo=UTC)
    assert make_record("x", title="T", featured_on=date(2024, 1, 1)).featured_on == date(2024, 1, 1)
