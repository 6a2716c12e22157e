"""The runner: configured sources into the store; a source that is down is reported, not raised."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import select

from newsletter.config import Settings
from newsletter.sources.runner import ingest_configured, ingest_sample
from newsletter.store.database import Database
from newsletter.store.models import Paper
from tests.sources.conftest import FakeTime, Serve, fixture_bytes

NOW = datetime(2024, 6, 11, 12, 0, tzinfo=UTC)
LISTING = json.loads(fixture_bytes("hf_daily_papers_2024-06-11.json"))
FEED = fixture_bytes("arxiv_rss_cs_CL+cs_LG.xml")


class Upstream:
    """Hugging Face and arXiv as recorded; either can be taken down."""

    def __init__(self) -> None:
        self.hf_down = False
        self.upvotes = 0
        self.etag: str | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "huggingface.co":
            if self.hf_down:
                raise httpx.ConnectError("[Errno 111] Connection refused")
            if request.url.params["date"] != "2024-06-11":
                return httpx.Response(200, json=[])
            listing = json.loads(json.dumps(LISTING))
            listing[0]["paper"]["upvotes"] += self.upvotes
            return httpx.Response(200, json=listing)
        if request.url.host == "rss.arxiv.org":
            headers = {"ETag": self.etag} if self.etag else {}
            if self.etag and request.headers.get("If-None-Match") == self.etag:
                return httpx.Response(304)
            return httpx.Response(200, content=FEED, headers=headers)
        return httpx.Response(404)


def _papers(db: Database) -> dict[str, Paper]:
    with db.session() as session:
        return {p.source_id: p for p in session.scalars(select(Paper))}


def test_configured_sources_are_ingested_and_merged(
    db: Database, make_settings: Callable[..., Settings], serve: Serve, fake_time: FakeTime
) -> None:
    settings = make_settings(ingest_sources="hf,arxiv", arxiv_categories="cs.CL,cs.LG")
    client, _ = serve(Upstream())
    report = ingest_configured(settings, db, now=NOW, client=client, sleep=fake_time.sleep)
    hf, arxiv = report.sources
    assert (hf.source, hf.counts.new, hf.error) == ("hf", 3, None)
    # Husky and Turbo Sparse are on both: the arXiv listing merges into the HF rows.
    assert (arxiv.counts.new, arxiv.counts.updated, arxiv.counts.skipped) == (0, 2, 1)
    papers = _papers(db)
    assert len(papers) == 3
    assert papers["2406.06469"].sources == ["hf", "arxiv"]
    assert papers["2406.06469"].categories == ["cs.CL", "cs.AI"]
    assert papers["2406.06469"].upvotes == 24
    assert report.summary() == (
        "3 new, 2 updated, 0 unchanged, 1 skipped, 2 replaced (0 of ours revised)"
    )
    assert [str(r) for r in report.reasons] == [
        "arxiv item 4 (not-an-id): no arXiv id in guid, description or link"
    ]


def test_a_second_run_changes_nothing_until_upvotes_move(
    db: Database, make_settings: Callable[..., Settings], serve: Serve, fake_time: FakeTime
) -> None:
    settings = make_settings(ingest_sources="hf,arxiv", arxiv_categories="cs.CL,cs.LG")
    upstream = Upstream()
    client, _ = serve(upstream)
    ingest_configured(settings, db, now=NOW, client=client, sleep=fake_time.sleep)
    again = ingest_configured(settings, db, now=NOW, client=client, sleep=fake_time.sleep)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 5)
    upstream.upvotes = 10
    later = ingest_configured(settings, db, now=NOW, client=client, sleep=fake_time.sleep)
    assert (later.new, later.updated) == (0, 1)
    assert _papers(db)["2406.06525"].upvotes == 71


def test_a_source_that_is_down_is_reported_and_retried_next_run(
    db: Database, make_settings: Callable[..., Settings], serve: Serve, fake_time: FakeTime
) -> None:
    settings = make_settings(ingest_sources="hf,arxiv", arxiv_categories="cs.CL,cs.LG")
    upstream = Upstream()
    upstream.hf_down = True
    client, _ = serve(upstream)
    report = ingest_configured(settings, db, now=NOW, client=client, sleep=fake_time.sleep)
    assert [r.source for r in report.failed] == ["hf"]
    assert "ConnectError" in (report.failed[0].error or "")
    assert report.sources[1].counts.new == 2  # arXiv still ingested
    upstream.hf_down = False
    retry = ingest_configured(settings, db, now=NOW, client=client, sleep=fake_time.sleep)
    assert retry.failed == [] and retry.sources[0].counts.new == 1
    assert len(_papers(db)) == 3


def test_an_unchanged_feed_answers_304_after_a_successful_run(
    db: Database, make_settings: Callable[..., Settings], serve: Serve, fake_time: FakeTime
) -> None:
    settings = make_settings(ingest_sources="arxiv", arxiv_categories="cs.CL,cs.LG")
    upstream = Upstream()
    upstream.etag = '"feed-2024-06-11"'
    client, server = serve(upstream)
    first = ingest_configured(settings, db, now=NOW, client=client, sleep=fake_time.sleep)
    second = ingest_configured(settings, db, now=NOW, client=client, sleep=fake_time.sleep)
    assert first.new == 2
    assert (second.new, second.updated, second.unchanged, second.failed) == (0, 0, 0, [])
    assert server.requests[-1].headers["If-None-Match"] == '"feed-2024-06-11"'


def test_the_file_source_reads_the_configured_file(
    db: Database, make_settings: Callable[..., Settings], serve: Serve, tmp_path: Path
) -> None:
    path = tmp_path / "papers.jsonl"
    path.write_text('{"title": "Only One", "upvotes": 2}\n')
    client, server = serve(Upstream())
    report = ingest_configured(
        make_settings(ingest_sources="file", ingest_file=str(path)), db, now=NOW, client=client
    )
    assert (report.new, report.failed) == (1, [])
    assert server.requests == []


def test_the_sample_loads_272_papers_once(db: Database) -> None:
    first = ingest_sample(db, now=NOW)
    assert (first.new, first.skipped, first.failed) == (272, 0, [])
    second = ingest_sample(db, now=NOW)
    assert (second.new, second.updated, second.unchanged) == (0, 0, 272)
    assert {tuple(p.sources) for p in _papers(db).values()} == {("sample",)}
