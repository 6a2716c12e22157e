"""Every email the product sends, as the bytes a real SMTP server received.

A recorded Hugging Face listing is ingested through the real source, an edition is built and
sent by the real sender to aiosmtpd on loopback; the account emails go through the same
``send_email`` the web app uses, and ``test-send`` through its own path. The tests read what
arrived: the subject as a mail client decodes it, each paper's links and attribution, and the
SpamAssassin score of every message (local rules only).
"""

from __future__ import annotations

import email
import email.policy
import mailbox
import random
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from newsletter.config import Settings
from newsletter.delivery.editions.build import build_edition
from newsletter.delivery.sending import runs
from newsletter.delivery.sending.transactional import send_email
from newsletter.delivery.sending.transport import make_transport
from newsletter.preferences import TopicSpec
from newsletter.render.contexts import (
    confirm_context,
    manage_context,
    preferences_changed_context,
    unsubscribed_context,
    welcome_context,
)
from newsletter.sources.huggingface import HuggingFaceSource
from newsletter.store.database import Database
from newsletter.store.models import Frequency, Subscriber
from newsletter.store.papers import store_items
from newsletter.store.subscribers import create_subscriber
from newsletter.tokens import Purpose, link
from tests.smtp_server import SmtpServer
from tests.sources.conftest import FakeTime, fixture_bytes, make_fetcher

DAY = date(2024, 6, 11)
NOW = datetime(2024, 6, 11, 7, 0, tzinfo=UTC)
API = "https://huggingface.co/api/daily_papers"
READER = "reader@example.org"
# The recorded listing: arXiv id, first author, and what the digest must say of each paper.
LISTING = {
    "2406.06525": ("Peize Sun", "LlamaGen applies next-token prediction to image generation "
                   "and outperforms diffusion models."),
    "2406.06469": ("Ada Quill", None),
    "2406.05955": ("Cleo Park", None),
}
SPAMASSASSIN = shutil.which("spamassassin")
MAX_SCORE = 0.5


def ingest_recorded_listing(db: Database) -> None:
    listing = fixture_bytes("hf_daily_papers_2024-06-11.json")

    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["p"])
        return httpx.Response(200, content=listing if page == 0 else b"[]",
                              headers={"content-type": "application/json"})

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        source = HuggingFaceSource(make_fetcher(client, FakeTime()), API, [DAY])
        counts = store_items(db, source.items(), now=NOW)
    assert counts.new == 3


@dataclass
class Sent:
    """What the server received, by the email that produced it."""

    raw: dict[str, bytes]

    def message(self, name: str) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw[name], policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


async def send_everything(db: Database, settings: Settings, server: SmtpServer) -> Sent:
    ingest_recorded_listing(db)
    topic = TopicSpec.build("Image generation", ["image generation"],
                            authors=["Peize Sun", "Ada Quill", "Cleo Park"])
    with db.session() as session:
        create_subscriber(session, READER, [topic], now=NOW)
    build_edition(db, settings, frequency=Frequency.DAILY, issue_date=DAY, now=NOW)
    summary = await runs.send_now(db, settings, clock=lambda: NOW, rng=random.Random(1))
    assert summary.sent == 1
    names = ["digest"]

    with db.session() as session:
        person = session.scalars(select(Subscriber)).one()
        links = {"preferences_url": link(settings, Purpose.PREFERENCES, person),
                 "unsubscribe_url": link(settings, Purpose.UNSUBSCRIBE, person)}
        facts = {"topics": [t.label for t in person.topics], "frequency": "daily",
                 "send_hour": 7, "timezone": "Europe/Berlin"}
        contexts = {
            "confirm": confirm_context(settings, email=READER, topics=facts["topics"],
                                       confirm_url=link(settings, Purpose.CONFIRM, person)),
            "manage": manage_context(settings, email=READER, **links),
            "welcome": welcome_context(settings, email=READER, **links, **facts),
            "preferences_changed": preferences_changed_context(
                settings, email=READER, **links, **facts),
            "unsubscribed": unsubscribed_context(settings, email=READER,
                                                 subscribe_url=settings.base_url + "/"),
        }
    transport = make_transport(settings)
    try:
        for name, context in contexts.items():
            unsubscribe = None if name in ("confirm", "unsubscribed") else links["unsubscribe_url"]
            await send_email(settings, transport, name=name, to=READER, context=context,
                             now=NOW, unsubscribe_url=unsubscribe)
            names.append(name)
    finally:
        await transport.close()
    await runs.test_send(db, settings, READER, NOW)
    names.append("test-send")
    received = server.received
    assert len(received) == len(names)
    return Sent(dict(zip(names, (r.raw for r in received), strict=True)))


@pytest.fixture
async def sent(
    db: Database, smtp_server: SmtpServer, make_settings: Callable[..., Settings]
) -> Sent:
    settings = make_settings(
        smtp_url=smtp_server.url, sender_address="digest@papers.example.org",
        base_url="https://papers.example.org",
        postal_address="Trending Papers, 1 Example Street, Springfield",
    )
    return await send_everything(db, settings, smtp_server)


def _whole_words(subject: str, title: str) -> None:
    """The subject's part of ``title`` is the title itself, or stops where a word stops."""
    head = subject.split(" + ")[0]
    kept = head.removesuffix("…")
    assert title.startswith(kept), (subject, title)
    if kept != title:
        assert head.endswith("…") and not (kept[-1].isalnum() and title[len(kept)].isalnum())


def test_the_digest_as_received_links_and_attributes_every_paper(sent: Sent) -> None:
    message = sent.message("digest")
    subject = str(message["Subject"])
    assert "  " not in subject and "\n" not in subject
    assert subject.endswith(" + 2 more papers")
    _whole_words(subject, "Autoregressive Model Beats Diffusion: Llama for Scalable Image "
                          "Generation")
    raw_head = sent.raw["digest"].split(b"\r\n\r\n", 1)[0].decode("ascii")
    unfolded = re.sub(r"\r\n[ \t]", " ", raw_head)  # RFC 5322 unfolding, as clients do
    assert "  " not in re.search(r"^Subject: (.*)$", unfolded, re.M).group(1)  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    flat = " ".join(text.split())  # the text part is wrapped at 72 columns
    for arxiv_id, (first_author, summary) in LISTING.items():
        assert f'href="https://huggingface.co/papers/{arxiv_id}"' in html
        assert f'href="https://arxiv.org/pdf/{arxiv_id}"' in html
        assert f"https://huggingface.co/papers/{arxiv_id}" in text
        assert first_author in html and first_author in text
        if summary:
            assert summary in html and summary in flat
    assert "★&nbsp;Peize Sun" in html and "★ Peize Sun" in text  # followed, marked
    assert "Jun 11" in html and "▲&nbsp;61" in html and "3&nbsp;comments" in html
    assert "Husky: A Unified, Open-Source Language Agent for Multi-Step Reasoning" in html


def test_every_subject_is_one_clean_line(sent: Sent) -> None:
    for name in sent.raw:
        subject = str(sent.message(name)["Subject"])
        assert subject and "  " not in subject and subject == subject.strip(), name


def _scores(messages: dict[str, bytes], tmp_path: Path) -> dict[str, tuple[float, str]]:
    """Run SpamAssassin once over an mbox of every message; name -> (score, rules hit)."""
    assert SPAMASSASSIN is not None
    source = tmp_path / "sent.mbox"
    box = mailbox.mbox(source)
    for raw in messages.values():
        box.add(raw)
    box.close()
    prefs = tmp_path / "user_prefs"
    prefs.write_text("use_bayes 0\nbayes_auto_learn 0\n", encoding="utf-8")
    with source.open("rb") as handle:
        result = subprocess.run(
            [SPAMASSASSIN, "--local", "--test-mode", "--mbox", "--prefspath", str(prefs)],
            stdin=handle, capture_output=True, timeout=120, check=True,
        )
    scored = tmp_path / "scored.mbox"
    scored.write_bytes(result.stdout)
    found: dict[str, tuple[float, str]] = {}
    for name, message in zip(messages, mailbox.mbox(scored), strict=True):
        status = " ".join(str(message["X-Spam-Status"]).split())
        score = re.search(r"score=(-?[\d.]+)", status)
        tests = re.search(r"tests=(\S*)", status)
        assert score is not None, status
        found[name] = (float(score.group(1)), tests.group(1) if tests else "")
    return found


@pytest.mark.skipif(SPAMASSASSIN is None,
                    reason="needs the spamassassin binary (Debian package spamassassin; "
                           ".ci/run installs it)")
def test_spamassassin_scores_every_email_we_send_at_most_half_a_point(
    sent: Sent, tmp_path: Path
) -> None:
    assert set(sent.raw) == {"digest", "confirm", "manage", "welcome", "preferences_changed",
                             "unsubscribed", "test-send"}
    scores = _scores(sent.raw, tmp_path)
    too_high = {name: found for name, found in scores.items() if found[0] > MAX_SCORE}
    assert not too_high, f"SpamAssassin scores above {MAX_SCORE}: {too_high}"
