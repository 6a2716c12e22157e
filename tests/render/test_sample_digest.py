"""The first digest a newcomer sees (``make run`` offline: the bundled sample) is the product
as it is: every paper linked, summarised in one whole sentence, under a clean subject."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from html import unescape
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from newsletter.config import Settings
from newsletter.render.digest import render_digest
from newsletter.sources.runner import ingest_sample
from newsletter.store.database import Database
from newsletter.store.models import Paper

NOW = datetime(2026, 11, 30, 7, tzinfo=UTC)
TITLE_LINK = re.compile(r'<p class="item-title"[^>]*><a href="([^"]+)"[^>]*>([^<]+)</a>')


def test_every_sample_paper_has_a_stable_link_and_a_whole_subject(
    db: Database, make_settings: Callable[..., Settings]
) -> None:
    ingest_sample(db, now=NOW)
    with db.session() as session:
        papers = {p.id: p for p in session.scalars(select(Paper).order_by(Paper.id))}
        assert len(papers) == 272
        ids = list(papers)
        for start in range(0, len(ids), 10):
            chunk = ids[start : start + 10]
            rendered = render_digest(
                make_settings(), papers=papers, paper_ids=chunk, whys=["Sample"] * len(chunk),
                issue_date=date(2026, 11, 30), frequency="daily", trending_only=False,
                email="new@example.org", preferences_url="https://x.test/p",
                unsubscribe_url="https://x.test/u",
            )
            assert rendered is not None
            links = TITLE_LINK.findall(rendered.html)
            assert len(links) == len(chunk)
            for href, title in links:
                url = urlsplit(unescape(href))
                assert (url.scheme, url.netloc, url.path) == ("https", "arxiv.org", "/search/")
                assert parse_qs(url.query) == {"query": [unescape(title)],
                                               "searchtype": ["title"]}
            lead = papers[chunk[0]].title
            head = rendered.subject.split(" + ")[0].removesuffix("…")
            assert " ".join(lead.split()).startswith(head)
            rest = " ".join(lead.split())[len(head):]
            assert not rest or not (head[-1].isalnum() and rest[0].isalnum()), rendered.subject
