"""Hugging Face Daily Papers: every field of the real JSON, paging, bad items, missing days."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import httpx
import pytest

from newsletter.errors import SourceError
from newsletter.sources.huggingface import HuggingFaceSource, recent_days
from newsletter.sources.interface import Item
from newsletter.sources.records import ListedPaper, Skipped
from tests.sources.conftest import FakeTime, Handler, Serve, fixture_bytes, make_fetcher

API = "https://huggingface.co/api/daily_papers"
DAY = date(2024, 6, 11)


def _listing(name: str = "hf_daily_papers_2024-06-11.json") -> list[object]:
    data: list[object] = json.loads(fixture_bytes(name))
    return data


def paged(listing: list[object]) -> Handler:
    """Serves a recorded listing the way the API pages it (``p`` from 0, ``limit``)."""

    def handler(request: httpx.Request) -> httpx.Response:
        page, limit = int(request.url.params["p"]), int(request.url.params["limit"])
        return httpx.Response(200, json=listing[page * limit : (page + 1) * limit])

    return handler


def _read(serve: Serve, fake_time: FakeTime, handler: Handler) -> list[Item]:
    client, _ = serve(handler)
    return list(HuggingFaceSource(make_fetcher(client, fake_time), API, [DAY]).items())


def test_every_field_is_read(serve: Serve, fake_time: FakeTime) -> None:
    records = _read(serve, fake_time, paged(_listing()))
    first = records[0]
    assert first == ListedPaper(
        source="hf",
        source_id="2406.06525",
        arxiv_id="2406.06525",
        title="Autoregressive Model Beats Diffusion: Llama for Scalable Image Generation",
        abstract="We introduce LlamaGen, a new family of image generation models that apply the "
        "original ``next-token prediction'' paradigm of large language models to the visual "
        "generation domain.",
        authors=("Peize Sun", "Yi Jiang", "Shoufa Chen", "Zehuan Yuan"),
        url="https://arxiv.org/abs/2406.06525",
        pdf_url="https://arxiv.org/pdf/2406.06525",
        github_url="https://github.com/FoundationVision/LlamaGen",
        github_stars=1210,
        project_url="https://peizesun.github.io/llamagen/",
        thumbnail_url="https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2406.06525.png",
        ai_summary="LlamaGen applies next-token prediction to image generation and outperforms "
        "diffusion models.",
        ai_keywords=(
            "LlamaGen",
            "next-token prediction",
            "image tokenizer",
            "class-conditional generation",
        ),
        published_at=datetime(2024, 6, 10, 17, 59, 52, tzinfo=UTC),
        featured_on=DAY,
        announced_on=date(2024, 6, 10),
        upvotes=61,
        comments=3,
    )


def test_text_is_cleaned_and_absent_fields_stay_empty(serve: Serve, fake_time: FakeTime) -> None:
    _, husky, turbo = _read(serve, fake_time, paged(_listing()))
    assert isinstance(husky, ListedPaper) and isinstance(turbo, ListedPaper)
    assert husky.title == "Husky: A Unified, Open-Source Language Agent for Multi-Step Reasoning"
    assert husky.abstract.endswith("for $n<k$ and $m>j$ steps the agent stays on track & accurate.")
    assert husky.authors == ("Ada Quill", "Bo Ren")  # hidden on HF, still an author
    assert (husky.ai_summary, husky.ai_keywords, husky.github_url) == (None, (), None)
    assert (turbo.github_url, turbo.github_stars, turbo.project_url) == (None, None, None)
    assert turbo.comments == 1


def test_all_pages_are_read(serve: Serve, fake_time: FakeTime) -> None:
    client, server = serve(paged(_listing()))
    source = HuggingFaceSource(make_fetcher(client, fake_time), API, [DAY], page_size=2)
    assert [r.source_id for r in source.items() if isinstance(r, ListedPaper)] == [
        "2406.06525",
        "2406.06469",
        "2406.05955",
    ]
    assert [dict(r.url.params) for r in server.requests] == [
        {"p": "0", "limit": "2", "date": "2024-06-11"},
        {"p": "1", "limit": "2", "date": "2024-06-11"},
    ]


def test_a_server_that_ignores_paging_does_not_loop(serve: Serve, fake_time: FakeTime) -> None:
    listing = _listing()[:2]
    client, server = serve(lambda request: httpx.Response(200, json=listing))
    source = HuggingFaceSource(make_fetcher(client, fake_time), API, [DAY], page_size=2)
    assert len(list(source.items())) == 2
    assert len(server.requests) == 2


def test_bad_items_are_skipped_with_a_reason_and_the_rest_read(
    serve: Serve, fake_time: FakeTime
) -> None:
    items = _read(serve, fake_time, paged(_listing("hf_daily_papers_bad.json")))
    records = [i for i in items if isinstance(i, ListedPaper)]
    skipped = [str(i) for i in items if isinstance(i, Skipped)]
    assert [r.title for r in records] == ["A Perfectly Fine Paper", "Bold Title With Markup"]
    assert records[1].abstract == "An abstract in HTML, with a link."
    assert skipped == [
        "hf 2024-06-11 page 0 item 1 (2406.07002): missing title",
        "hf 2024-06-11 page 0 item 2 (2406.07003): upvotes must be a non-negative integer",
        "hf 2024-06-11 page 0 item 3 (2406.07004): paper.authors must be a list",
        'hf 2024-06-11 page 0 item 4: item must be an object with a "paper" object',
    ]


def test_absurd_sizes_are_skipped(serve: Serve, fake_time: FakeTime) -> None:
    big = {"paper": {"id": "2406.00001", "title": "T" * 5000, "summary": "s"}}
    huge = {"paper": {"id": "2406.00002", "title": "Fine", "summary": "word " * 10_000}}
    items = _read(serve, fake_time, paged([big, huge, _listing()[0]]))
    assert [type(i).__name__ for i in items] == ["Skipped", "Skipped", "ListedPaper"]
    assert "longer than 1000" in str(items[0]) and "longer than 20000" in str(items[1])


def test_a_day_not_open_yet_is_not_an_error(serve: Serve, fake_time: FakeTime) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params["date"] == "2024-06-12":
            return httpx.Response(400, json={"error": "date is in the future"})
        return paged(_listing())(request)

    client, _ = serve(handler)
    days = [date(2024, 6, 12), DAY]
    source = HuggingFaceSource(make_fetcher(client, fake_time), API, days)
    assert len(list(source.items())) == 3


def test_no_listing_at_all_is_an_error(serve: Serve, fake_time: FakeTime) -> None:
    client, _ = serve(lambda request: httpx.Response(404))
    source = HuggingFaceSource(make_fetcher(client, fake_time), API, [DAY, date(2024, 6, 10)])
    with pytest.raises(SourceError, match="no listing"):
        list(source.items())


def test_not_json_is_an_error(serve: Serve, fake_time: FakeTime) -> None:
    client, _ = serve(lambda request: httpx.Response(200, text="<html>maintenance</html>"))
    with pytest.raises(SourceError, match="not JSON"):
        list(HuggingFaceSource(make_fetcher(client, fake_time), API, [DAY]).items())


def test_without_a_date_the_last_three_listings_are_read() -> None:
    now = datetime(2024, 6, 11, 1, 30, tzinfo=UTC)
    assert recent_days(now) == [date(2024, 6, 11), date(2024, 6, 10), date(2024, 6, 9)]
