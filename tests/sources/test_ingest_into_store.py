"""Recorded feeds run into a real database (SQLite and PostgreSQL): revisions, announcement
dates deciding what is news, and counts that no backend can refuse."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import httpx
from sqlalchemy import select

from newsletter.delivery.editions.choosing import candidate_papers
from newsletter.sources.arxiv_api import ArxivApiSource
from newsletter.sources.arxiv_rss import ArxivRssSource
from newsletter.sources.huggingface import HuggingFaceSource
from newsletter.sources.runner import ingest_sample, run_source
from newsletter.store.database import Database
from newsletter.store.models import Frequency, Paper
from tests.sources.conftest import FakeTime, Serve, atom_pages, fixture_bytes, make_fetcher

HF_API = "https://huggingface.co/api/daily_papers"
NOW = datetime(2024, 6, 13, 6, 0, tzinfo=UTC)
AFFILIATIONS = "arxiv_rss_cs_LG_affiliations.xml"


def _papers(db: Database) -> dict[str, Paper]:
    with db.session() as session:
        return {p.source_id: p for p in session.scalars(select(Paper))}


def _rss(serve: Serve, fake_time: FakeTime, name: str) -> ArxivRssSource:
    body = fixture_bytes(name)
    client, _ = serve(lambda request: httpx.Response(200, content=body))
    return ArxivRssSource(make_fetcher(client, fake_time), "https://rss.arxiv.org/rss", ["cs.LG"])


def test_replacements_are_counted_and_revise_the_papers_we_have(
    db: Database, serve: Serve, fake_time: FakeTime
) -> None:
    first = run_source(_rss(serve, fake_time, "arxiv_rss_cs_CL+cs_LG.xml"), db, now=NOW)
    assert first.counts.replaced == 2 and first.counts.revised == 0  # nothing of theirs stored
    before = _papers(db)["2406.06469"]
    assert before.title.startswith("Husky: A Unified")
    later = NOW + timedelta(days=2)
    report = run_source(_rss(serve, fake_time, AFFILIATIONS), db, now=later)
    assert report.summary() == (
        "2 new, 0 updated, 0 unchanged, 0 skipped, 2 replaced (1 of ours revised)"
    )
    papers = _papers(db)
    husky = papers["2406.06469"]
    assert husky.title == "Husky v2: A Unified, Open-Source Language Agent for Multi-Step Reasoning"
    assert husky.abstract.startswith("The second version:")
    assert husky.authors[-1] == "Eve Fox"
    assert husky.announced_on == before.announced_on == date(2024, 6, 11)  # not the revision's
    assert "2211.04321" not in papers  # a revision of a paper we never had is not stored
    assert papers["2406.08102"].authors[0] == "Jadelynn Dao"


def test_a_paper_announced_long_ago_is_not_news_however_recently_stored(
    db: Database, serve: Serve, fake_time: FakeTime
) -> None:
    """A year after the fact, ``newsletter ingest --source arxiv --date 2024-06-10`` and that
    week's RSS are loaded: every row is stored "today", none is news for today's digest, and
    each is news for the digests of the days it was announced."""
    today = NOW + timedelta(days=365)
    client, _ = serve(atom_pages(fixture_bytes("arxiv_query_cs_CV.xml")))
    fetcher = make_fetcher(client, fake_time)
    by_day = ArxivApiSource(fetcher, "https://x/api", ["cs.CV"], date(2024, 6, 10))
    assert run_source(by_day, db, now=today).counts.new == 2
    assert run_source(_rss(serve, fake_time, AFFILIATIONS), db, now=today).counts.new == 2
    with db.session() as session:
        stale = candidate_papers(session, Frequency.DAILY, today.date(), today)
        stale_weekly = candidate_papers(session, Frequency.WEEKLY, today.date(), today)
        then = candidate_papers(session, Frequency.DAILY, NOW.date(), NOW)
        week = candidate_papers(session, Frequency.WEEKLY, NOW.date(), NOW)
    assert stale == [] and stale_weekly == []
    assert {p.source_id for p in then} == {"2406.08102", "2406.08230"}  # announced 06-13
    assert {p.source_id for p in week} == {"2406.08102", "2406.08230", "2406.06525", "2406.06400"}


def test_a_file_without_announcement_dates_is_news_when_loaded(db: Database) -> None:
    ingest_sample(db, now=NOW)
    with db.session() as session:
        fresh = candidate_papers(session, Frequency.DAILY, NOW.date(), NOW)
        later = candidate_papers(
            session, Frequency.DAILY, NOW.date() + timedelta(days=5), NOW + timedelta(days=5)
        )
    assert len(fresh) == 272 and later == []


def test_huge_counts_are_clipped_and_never_fail_the_batch(
    db: Database, serve: Serve, fake_time: FakeTime
) -> None:
    """10^30 overflows SQLite's 64-bit integers, 2^31+5 PostgreSQL's INTEGER; both are stored
    as the largest count every backend holds, and the good items of the batch go in too."""
    listing = json.loads(fixture_bytes("hf_daily_papers_2024-06-11.json"))
    listing[0]["paper"]["upvotes"] = 10**30
    listing[1]["paper"]["upvotes"] = 2**31 + 5
    listing[1]["numComments"] = 2**63
    listing[2]["paper"]["githubStars"] = 10**20
    client, _ = serve(lambda request: httpx.Response(200, json=listing))
    source = HuggingFaceSource(make_fetcher(client, fake_time), HF_API, [date(2024, 6, 11)])
    report = run_source(source, db, now=NOW)
    assert report.error is None and report.counts.new == 3
    papers = _papers(db)
    assert papers["2406.06525"].upvotes == 2**31 - 1
    assert papers["2406.06469"].upvotes == 2**31 - 1
    assert papers["2406.06469"].comments == 2**31 - 1
    assert papers["2406.05955"].github_stars == 2**31 - 1
