"""A digest that learns from its reader, end to end in a real Chromium: the links come from the
digest as the SMTP server received it, a plain GET records nothing, the page's script (or its
button, without script) records the verdict, Undo removes it, and the next digest changes."""

from __future__ import annotations

import asyncio
import random
import re
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from newsletter.config import Settings
from newsletter.delivery.editions.build import build_edition
from newsletter.delivery.sending.runs import send_now
from newsletter.preferences import TopicSpec
from newsletter.sources.runner import ingest_sample
from newsletter.store.database import Database
from newsletter.store.models import Delivery, Edition, Frequency, Paper, PaperVerdict, Verdict
from newsletter.store.subscribers import create_subscriber
from newsletter.tokens import FeedbackLinks
from tests.smtp_server import SmtpServer
from tests.web.helpers import bound_socket, mail_to, serving, text_part
from tests.web.test_browser import DESKTOP

pytestmark = pytest.mark.browser
TOPIC = TopicSpec.build("reasoning in language models", "chain-of-thought, reasoning")
LINK = re.compile(r"(https?://\S+/(more-like-this|not-for-me)/[A-Za-z0-9._\-]+)")


class Site:
    def __init__(self, settings: Settings, db: Database, now: datetime) -> None:
        self.settings, self.db, self.now = settings, db, now
        self.voter = self._subscriber("voter@example.org")
        self.control = self._subscriber("control@example.org")

    def _subscriber(self, email: str) -> int:
        with self.db.session() as session:
            return create_subscriber(session, email, [TOPIC], now=self.now).id

    def edition(self, issue_date: date, now: datetime) -> dict[int, list[int]]:
        """Build and send one daily edition; each subscriber's paper ids in digest order."""
        stats = build_edition(self.db, self.settings, frequency=Frequency.DAILY,
                              issue_date=issue_date, now=now)

        def send() -> None:
            asyncio.run(send_now(self.db, self.settings, clock=lambda: now,
                                 rng=random.Random(3), edition_id=stats.edition_id))

        worker = threading.Thread(target=send)  # Playwright's sync API owns this thread's loop
        worker.start()
        worker.join(60)
        with self.db.session() as session:
            rows = session.execute(
                select(Delivery.subscriber_id, Delivery.paper_ids)
                .join(Edition).where(Edition.issue_date == issue_date)
            ).all()
        return {sid: list(ids) for sid, ids in rows}

    def verdicts(self) -> dict[int, tuple[Verdict, str | None]]:
        with self.db.session() as session:
            return {
                v.paper_id: (v.verdict, v.topic)
                for v in session.scalars(
                    select(PaperVerdict).where(PaperVerdict.subscriber_id == self.voter)
                )
            }


@pytest.fixture
def site(
    db: Database, make_settings: Callable[..., Settings], smtp_server: SmtpServer
) -> Iterator[Site]:
    sock = bound_socket()
    settings = make_settings(
        database_url=db.url,
        base_url=f"http://127.0.0.1:{sock.getsockname()[1]}",
        smtp_url=smtp_server.url,
        environment="development",
    )
    now = datetime.now(UTC)
    ingest_sample(db, now=now - timedelta(hours=1))
    with serving(settings, db, sock):
        yield Site(settings, db, now)


def _links(message: EmailMessage, settings: Settings) -> dict[tuple[str, int], str]:
    """(kind, paper id) -> URL, for every feedback link in the text part of the real email."""
    links = FeedbackLinks(settings)
    return {
        (kind, links.read(url.rpartition("/")[2]).paper_id): url
        for url, kind in LINK.findall(text_part(message))
    }


def test_more_like_this_and_not_for_me_from_a_real_digest(
    site: Site, browser: Any, smtp_server: SmtpServer, artifacts_dir: Path
) -> None:
    today = site.now.date()
    first = site.edition(today, site.now)
    assert first[site.voter] == first[site.control] and len(first[site.voter]) >= 3
    disliked, liked = first[site.voter][0], first[site.voter][1]
    [message] = mail_to(smtp_server, "voter@example.org")
    links = _links(message, site.settings)
    assert {pid for _, pid in links} == set(first[site.voter])

    # A mail scanner fetching the links records nothing.
    for url in links.values():
        assert httpx.get(url, follow_redirects=False).status_code == 200
    assert site.verdicts() == {}

    # With script: opening the link is enough.
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(links[("more-like-this", liked)])
    page.get_by_role("heading", name=re.compile("Got it: more like")).wait_for()
    assert site.verdicts() == {liked: (Verdict.LIKE, TOPIC.label)}
    page.screenshot(path=artifacts_dir / "feedback-got-it.png", full_page=True)
    page.get_by_role("button", name="Undo").click()
    page.get_by_role("heading", name="Undone").wait_for()
    assert site.verdicts() == {}
    page.get_by_role("button", name="More like this after all").click()
    page.get_by_role("heading", name=re.compile("Got it: more like")).wait_for()
    assert site.verdicts() == {liked: (Verdict.LIKE, TOPIC.label)}
    context.close()

    # Without script: the page waits for its button.
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    page = context.new_page()
    page.goto(links[("not-for-me", disliked)])
    page.get_by_role("heading", name="Not for me").wait_for()
    assert disliked not in site.verdicts()
    page.screenshot(path=artifacts_dir / "feedback-no-script.png", full_page=True)
    page.get_by_role("button", name="Yes, not for me").click()
    page.get_by_role("heading", name=re.compile("Got it: fewer like")).wait_for()
    assert site.verdicts()[disliked] == (Verdict.DISLIKE, TOPIC.label)
    page.get_by_role("link", name="See every paper you rated").click()
    page.locator('[data-rated="disliked"]').wait_for()
    page.locator("#verdicts").screenshot(path=artifacts_dir / "preferences-rated.png")
    context.close()

    # Fifteen days on, every paper trends again (earlier digests no longer hold them back):
    # the reader who said "Not for me" does not get that paper; the other reader does.
    later = site.now + timedelta(days=15)
    with site.db.session() as session:
        session.execute(update(Paper).values(featured_on=later.date()))
    second = site.edition(later.date(), later)
    assert disliked in second[site.control]
    assert disliked not in second[site.voter]
    assert second[site.voter]  # the reader still gets a digest
    [_, again] = mail_to(smtp_server, "voter@example.org", count=2)
    assert ("not-for-me", disliked) not in _links(again, site.settings)
