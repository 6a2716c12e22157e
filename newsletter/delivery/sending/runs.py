"""Whole runs of the sender for the command line: send now, work forever, dry run, test send.

Each function opens and closes its transport inside the running event loop, and takes the
clock and randomness from its caller.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, select

from newsletter.config import Settings
from newsletter.delivery.ledger.claims import Ledger
from newsletter.delivery.ledger.outcomes import Outcome
from newsletter.delivery.messages.compose import Composer
from newsletter.delivery.messages.message import build_message
from newsletter.delivery.sending.sender import Sender, Summary
from newsletter.delivery.sending.transport import make_transport
from newsletter.render import render_email
from newsletter.render.contexts import digest_context
from newsletter.render.items import Author, DigestEntry, digest_entry
from newsletter.store.database import Database
from newsletter.store.models import Delivery, DeliveryStatus, Paper

SAMPLE_ITEM = DigestEntry(
    title="A sample paper: checking your SMTP settings",
    url="https://arxiv.org/",
    summary="If you can read this, the relay accepted the message and your mail client shows "
    "both parts of it.",
    why="This is a test email sent with `newsletter test-send`.",
    authors=(Author("Ada Lovelace"), Author("Alan Turing"), Author("Grace Hopper")),
    et_al=True,
)


def owner_name(name: str | None = None) -> str:
    """Who holds a lease: host, process and an optional operator-chosen name."""
    return f"{socket.gethostname()}:{os.getpid()}" + (f":{name}" if name else "")


def due_count(db: Database, now: datetime, edition_id: int | None = None) -> int:
    query = select(func.count()).where(
        Delivery.status == DeliveryStatus.PENDING, Delivery.next_attempt_at <= now
    )
    if edition_id is not None:
        query = query.where(Delivery.edition_id == edition_id)
    with db.session() as session:
        return int(session.scalar(query) or 0)


async def send_now(
    db: Database, settings: Settings, *, clock: Callable[[], datetime], rng: random.Random,
    edition_id: int | None = None, retry_ambiguous: bool = False,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> Summary:
    """Send every due delivery once (retries scheduled later stay pending)."""
    owner = owner_name("send")
    if retry_ambiguous:
        Ledger(db, owner=owner, lease_seconds=settings.delivery_lease_seconds).requeue_ambiguous(
            clock(), edition_id
        )
    transport = make_transport(settings)
    try:
        sender = Sender(db, settings, transport, owner=owner, rng=rng, clock=clock,
                        on_outcome=on_outcome)
        return await sender.run(edition_id=edition_id)
    finally:
        await transport.close()


async def work(
    db: Database, settings: Settings, *, name: str | None, stop: asyncio.Event,
    clock: Callable[[], datetime], rng: random.Random,
) -> Summary:
    """Poll the ledger and send until ``stop`` is set; then finish and release claims."""
    transport = make_transport(settings)
    try:
        sender = Sender(db, settings, transport, owner=owner_name(name), rng=rng, clock=clock)
        return await sender.run(stop=stop, until_idle=False,
                                poll_seconds=settings.delivery_poll_seconds)
    finally:
        await transport.close()


def dry_run(
    db: Database, settings: Settings, now: datetime, edition_id: int | None = None
) -> tuple[int, int]:
    """Compose every due message without sending; (messages, distinct digests rendered)."""
    ledger = Ledger(db, owner=owner_name("dry-run"), lease_seconds=1)
    composer = Composer(settings)
    claims = ledger.peek(now, 1_000_000, edition_id)
    composer.add_papers(ledger.papers(composer.missing_papers(claims)))
    for claim in claims:
        composer.compose(claim, now)
    return len(claims), composer.renders


async def test_send(db: Database, settings: Settings, address: str, now: datetime) -> str:
    """A sample digest (the newest papers, if any) to one address; returns the server reply."""
    with db.session() as session:
        newest = session.scalars(select(Paper).order_by(Paper.first_seen_at.desc()).limit(3))
        items = [digest_entry(p, "Among the newest papers (test email)") for p in newest]
    context = digest_context(
        settings, email=address, items=items or [SAMPLE_ITEM], issue_date=now.date(),
        frequency="daily", preferences_url=settings.base_url, unsubscribe_url=settings.base_url,
    )
    message = build_message(settings, to=address, rendered=render_email("digest", context),
                            now=now)
    transport = make_transport(settings)
    try:
        return await transport.send(message)
    finally:
        await transport.close()
