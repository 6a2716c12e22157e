"""arXiv: the query API's Atom and the announcement RSS, in their published formats."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import httpx
import pytest

from newsletter.config import Settings
from newsletter.errors import SourceError
from newsletter.sources.arxiv_api import ArxivApiSource, query_for
from newsletter.sources.arxiv_rss import ArxivRssSource
from newsletter.sources.configured import SourceBuilder, SourceOptions
from newsletter.sources.records import ListedPaper, Revision, Skipped
from tests.sources.conftest import FakeTime, Serve, atom_pages, fixture_bytes, make_fetcher

API = "https://export.arxiv.org/api/query"
RSS = "https://rss.arxiv.org/rss"
ATOM = fixture_bytes("arxiv_query_cs_CV.xml")
FEED = fixture_bytes("arxiv_rss_cs_CL+cs_LG.xml")


def test_atom_entries_are_read_field_by_field(serve: Serve, fake_time: FakeTime) -> None:
    client, server = serve(lambda request: httpx.Response(200, content=ATOM))
    source = ArxivApiSource(make_fetcher(client, fake_time), API, ["cs.CV"], None)
    llamagen, bounds, missing = list(source.items())
    assert llamagen == ListedPaper(
        source="arxiv",
        source_id="2406.06525",
        arxiv_id="2406.06525",
        title="Autoregressive Model Beats Diffusion: Llama for Scalable Image Generation",
        abstract="We introduce LlamaGen, a new family of image generation models that apply "
        "original ``next-token prediction'' paradigm of large language models to visual "
        "generation domain. It is an affirmative answer to whether vanilla autoregressive models "
        "can achieve state-of-the-art image generation performance.",
        authors=("Peize Sun", "Yi Jiang", "Shoufa Chen", "Zehuan Yuan"),
        url="https://arxiv.org/abs/2406.06525",
        pdf_url="https://arxiv.org/pdf/2406.06525",
        categories=("cs.CV", "cs.AI"),
        published_at=datetime(2024, 6, 10, 17, 59, 52, tzinfo=UTC),
        announced_on=date(2024, 6, 10),
    )
    assert isinstance(bounds, ListedPaper)
    assert bounds.source_id == "2406.06400"  # v2, stored without its version
    assert bounds.title == "Tight Bounds for $n<k$ Views and $m>j$ Cameras"
    assert "from $n<k$ views is possible whenever $m>j$ cameras" in bounds.abstract
    assert bounds.categories == ("cs.CV", "math.OC")  # the ACM code I.4.5 is not a category
    assert isinstance(missing, Skipped) and missing.reason == "missing title"
    params = dict(server.requests[0].url.params)
    assert params == {
        "search_query": "cat:cs.CV",
        "sortBy": "submittedDate",
        "sortOrder": "descending",
        "start": "0",
        "max_results": "200",
    }


def test_a_day_is_queried_by_submission_date_and_paged(serve: Serve, fake_time: FakeTime) -> None:
    client, server = serve(atom_pages(ATOM))
    source = ArxivApiSource(
        make_fetcher(client, fake_time), API, ["cs.CV"], date(2024, 6, 10), page_size=2
    )
    assert len(list(source.items())) == 3
    assert [r.url.params["start"] for r in server.requests] == ["0", "2"]  # 3 results in all
    assert server.requests[0].url.params["search_query"] == query_for("cs.CV", date(2024, 6, 10))
    assert query_for("cs.CV", date(2024, 6, 10)) == (
        "cat:cs.CV AND submittedDate:[202406100000 TO 202406102359]"
    )


def test_an_api_error_feed_is_a_source_error(serve: Serve, fake_time: FakeTime) -> None:
    error = fixture_bytes("arxiv_query_error.xml")
    client, _ = serve(lambda request: httpx.Response(200, content=error))
    source = ArxivApiSource(make_fetcher(client, fake_time), API, ["cs.CV"], None)
    with pytest.raises(SourceError, match="start must be an integer"):
        list(source.items())


def test_broken_xml_is_a_source_error(serve: Serve, fake_time: FakeTime) -> None:
    client, _ = serve(lambda request: httpx.Response(200, content=b"<feed><entry>"))
    source = ArxivApiSource(make_fetcher(client, fake_time), API, ["cs.CV"], None)
    with pytest.raises(SourceError, match="not well-formed XML"):
        list(source.items())


def test_rss_reads_new_and_cross_as_papers_and_replacements_as_revisions(
    serve: Serve, fake_time: FakeTime
) -> None:
    client, server = serve(lambda request: httpx.Response(200, content=FEED))
    source = ArxivRssSource(make_fetcher(client, fake_time), RSS, ["cs.CL", "cs.LG"])
    husky, turbo, replaced, replaced_cross, nameless = list(source.items())
    assert isinstance(replaced, Revision) and replaced.record.source_id == "2305.01234"
    assert isinstance(replaced_cross, Revision) and replaced_cross.record.title == (
        "An Old Cross-Listed Paper, Revised"
    )
    assert str(server.requests[0].url) == "https://rss.arxiv.org/rss/cs.CL+cs.LG"
    assert husky == ListedPaper(
        source="arxiv",
        source_id="2406.06469",
        arxiv_id="2406.06469",
        title="Husky: A Unified, Open-Source Language Agent for Multi-Step Reasoning",
        abstract="Language agents perform complex tasks by using tools to execute each step "
        "precisely. We show that for $n<k$ and $m>j$ steps the agent stays on track & accurate.",
        authors=("Ada Quill", "Bo Ren", "Cy Diaz", "Dee Evans"),
        url="https://arxiv.org/abs/2406.06469",
        pdf_url="https://arxiv.org/pdf/2406.06469",
        categories=("cs.CL", "cs.AI"),
        published_at=datetime(2024, 6, 11, 4, 0, tzinfo=UTC),
        announced_on=date(2024, 6, 11),
    )
    assert isinstance(turbo, ListedPaper) and turbo.source_id == "2406.05955"  # cross-list
    assert isinstance(nameless, Skipped)
    assert str(nameless) == "arxiv item 4 (not-an-id): no arXiv id in guid, description or link"


def test_an_empty_weekend_feed_is_fine(serve: Serve, fake_time: FakeTime) -> None:
    empty = b"<rss version='2.0'><channel><title>cs.CL updates</title></channel></rss>"
    client, _ = serve(lambda request: httpx.Response(200, content=empty))
    assert list(ArxivRssSource(make_fetcher(client, fake_time), RSS, ["cs.CL"]).items()) == []


def test_arxiv_requests_are_three_seconds_apart(
    serve: Serve, fake_time: FakeTime, make_settings: Callable[..., Settings]
) -> None:
    """API pages, retries and the RSS feed share one pacer; the fake sleep records the waits."""
    pages = atom_pages(ATOM)
    replies = iter([httpx.Response(503)])

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "rss.arxiv.org":
            return httpx.Response(200, content=FEED)
        return next(replies, None) or pages(request)

    client, server = serve(handler)
    builder = SourceBuilder(
        make_settings(),
        client,
        now=datetime(2024, 6, 11, tzinfo=UTC),
        sleep=fake_time.sleep,
        clock=fake_time.clock,
    )
    by_day = builder.build("arxiv", SourceOptions(day=date(2024, 6, 10), categories=("cs.CV",)))
    latest = builder.build("arxiv", SourceOptions(categories=("cs.CL", "cs.LG")))
    list(by_day.source.items())
    list(latest.source.items())
    assert len(server.requests) == 3  # a 503, then the page (3 of 3 results), then the RSS
    gaps = [b - a for a, b in zip(server.sent_at, server.sent_at[1:], strict=False)]
    assert all(gap >= 3.0 for gap in gaps), gaps
    assert fake_time.sleeps and sum(fake_time.sleeps) >= 6.0
