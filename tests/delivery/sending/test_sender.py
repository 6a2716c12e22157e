"""Sending an edition through a real SMTP server: what arrives, faults, and exactly-once."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from email.message import EmailMessage

from sqlalchemy import select, update

from newsletter.config import Settings
from newsletter.delivery.editions.build import build_edition
from newsletter.delivery.ledger.claims import Ledger
from newsletter.store.database import Database
from newsletter.store.models import (
    Delivery,
    DeliveryStatus,
    Frequency,
    Paper,
    Subscriber,
    SubscriberStatus,
)
from tests.delivery.conftest import RunSender
from tests.delivery.helpers import NOW, PAPERS, add_many, add_papers, add_subscriber
from tests.smtp_server import SmtpServer

DAY = date(2024, 5, 1)
S = DeliveryStatus


def build(db: Database, settings: Settings, **kwargs: object) -> None:
    build_edition(db, settings, frequency=Frequency.DAILY, issue_date=DAY, now=NOW, **kwargs)  # type: ignore[arg-type]


def statuses(db: Database) -> dict[str, Delivery]:
    with db.session() as session:
        rows = session.execute(select(Subscriber.email, Delivery).join(Delivery)).all()
        return {email: delivery for email, delivery in rows}


def body(message: EmailMessage, kind: str) -> str:
    part = message.get_body((kind,))
    assert part is not None
    return str(part.get_content())


async def test_edition_arrives_complete_and_correct(
    db: Database, smtp_server: SmtpServer, smtp_settings: Callable[..., Settings],
    run_sender: RunSender,
) -> None:
    settings = smtp_settings()
    evil = ('<script>alert("speech recognition")</script> speech recognition\r\nBcc: x@evil.test',
            "A speech recognition paper whose title tries an injection.")
    add_papers(db, [*PAPERS, evil], prefix="e")
    add_papers(db, None, prefix="f")
    for n in range(6):
        add_subscriber(db, f"s{n}@example.org", ["speech recognition"] if n % 2 else
                       ["graph neural networks"])
    build(db, settings)
    summary, sender = await run_sender(settings)
    assert (summary.sent, summary.failed) == (6, 0)
    assert sender.composer.renders == 2  # one render per distinct digest, not per subscriber
    received = smtp_server.received
    assert sorted(r.rcpt_tos[0] for r in received) == [f"s{n}@example.org" for n in range(6)]
    rows = statuses(db)
    for n in range(6):
        [message] = smtp_server.messages_to(f"s{n}@example.org")
        row = rows[f"s{n}@example.org"]
        assert row.status is S.SENT and row.message_id == message["Message-ID"]
        assert row.last_reply.startswith("250") and row.sent_at is not None
        _check_message(message, f"s{n}@example.org")
    [speech] = smtp_server.messages_to("s1@example.org")
    html = body(speech, "html")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "\n" not in str(speech["Subject"]) and speech["Bcc"] is None


def _check_message(message: EmailMessage, address: str) -> None:
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["To"] == address
    assert message["From"] == "Trending Papers <digest@papers.example.org>"
    assert message["Message-ID"].endswith("@papers.example.org>")
    assert message["List-Id"] == '"Trending Papers" <trending-papers.papers.example.org>'
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    https, mailto = (link.strip(" <>") for link in message["List-Unsubscribe"].split(","))
    assert https.startswith("https://papers.example.org/unsubscribe/")
    assert mailto.startswith("mailto:digest@papers.example.org?subject=unsubscribe")
    html, text = body(message, "html"), body(message, "plain")
    assert f'href="{https}"' in html and https in text
    assert 'href="https://papers.example.org/preferences/' in html
    assert address in text and "%%NL" not in html + text
    assert 'href="https://arxiv.org/abs/2405.' in html
    assert 'class="why"' in html and "Why: " in text


async def test_faults_retry_fail_bounce_and_never_duplicate(
    db: Database, smtp_server: SmtpServer, smtp_settings: Callable[..., Settings],
    run_sender: RunSender,
) -> None:
    settings = smtp_settings(smtp_pool_size=1, delivery_hard_bounce_limit=1)
    add_papers(db)
    for name in ("busy", "full", "gone", "ok", "closing"):
        add_subscriber(db, f"{name}@example.org")
    build(db, settings)
    smtp_server.fail_for("busy@example.org", "RCPT", "451 4.3.0 try again later")
    smtp_server.fail_for("full@example.org", "DATA", "552 5.2.2 mailbox full")
    smtp_server.fail_for("gone@example.org", "RCPT", "550 5.1.1 no such user")
    smtp_server.fail_for("closing@example.org", "RCPT", "421 4.7.0 closing")
    summary, _ = await run_sender(settings)
    assert (summary.sent, summary.retried, summary.failed) == (2, 2, 1)
    rows = statuses(db)
    assert rows["busy@example.org"].status is S.PENDING
    assert rows["busy@example.org"].attempts == 1
    assert rows["busy@example.org"].next_attempt_at is not None
    assert rows["full@example.org"].last_reply.startswith("552")
    assert rows["gone@example.org"].status is S.FAILED
    assert rows["gone@example.org"].last_reply.startswith("550 5.1.1")
    assert rows["closing@example.org"].status is S.SENT  # 421: reconnected and resent
    with db.session() as session:
        query = select(Subscriber).where(Subscriber.email == "gone@example.org")
        gone = session.scalars(query).one()
        assert gone.status is SubscriberStatus.BOUNCED and gone.hard_bounces == 1

    nothing_due_yet, _ = await run_sender(settings)
    assert nothing_due_yet.sent == 0  # the retries wait for their backoff
    later, _ = await run_sender(settings, now=NOW + timedelta(hours=1))
    assert later.sent == 2
    counts = Counter(r.rcpt_tos[0] for r in smtp_server.received)
    assert counts == {"busy@example.org": 1, "full@example.org": 1, "ok@example.org": 1,
                      "closing@example.org": 1}


async def test_temporary_failures_give_up_after_max_attempts(
    db: Database, smtp_server: SmtpServer, smtp_settings: Callable[..., Settings],
    run_sender: RunSender,
) -> None:
    settings = smtp_settings(delivery_max_attempts=2, delivery_backoff_seconds=1)
    add_papers(db)
    add_subscriber(db, "busy@example.org")
    build(db, settings)
    smtp_server.fail_next("RCPT", "450 4.2.1 mailbox busy", times=2)
    first, _ = await run_sender(settings)
    second, _ = await run_sender(settings, now=NOW + timedelta(minutes=5))
    assert (first.retried, second.failed) == (1, 1)
    row = statuses(db)["busy@example.org"]
    assert row.status is S.FAILED and row.attempts == 2
    assert row.last_reply.startswith("gave up after 2 attempts: 450")
    with db.session() as session:  # temporary failures are not bounces
        assert session.scalars(select(Subscriber.hard_bounces)).one() == 0


async def test_ambiguous_is_not_resent_until_the_operator_asks(
    db: Database, smtp_server: SmtpServer, smtp_settings: Callable[..., Settings],
    run_sender: RunSender,
) -> None:
    settings = smtp_settings(smtp_pool_size=1)
    add_papers(db)
    add_subscriber(db, "a@example.org")
    add_subscriber(db, "b@example.org")
    build(db, settings)
    smtp_server.drop_next("DATA")
    summary, _ = await run_sender(settings)
    assert (summary.ambiguous, summary.sent) == (1, 1)
    assert statuses(db)["a@example.org"].status is S.AMBIGUOUS
    again, _ = await run_sender(settings, now=NOW + timedelta(days=1))
    assert again.sent == 0
    assert len(smtp_server.messages_to("a@example.org")) == 1  # it had arrived after all
    assert Ledger(db, owner="op", lease_seconds=60).requeue_ambiguous(NOW) == 1
    requeued, _ = await run_sender(settings)
    assert requeued.sent == 1 and statuses(db)["a@example.org"].status is S.SENT


async def test_stalled_and_dropped_links_are_retried(
    db: Database, smtp_server: SmtpServer, smtp_settings: Callable[..., Settings],
    run_sender: RunSender,
) -> None:
    settings = smtp_settings(smtp_pool_size=1, smtp_timeout=0.5)
    add_papers(db)
    add_subscriber(db, "slow@example.org")
    add_subscriber(db, "drop@example.org")
    build(db, settings)
    smtp_server.stall_next("MAIL", 1.2, times=2)  # timeout is 0.5 s; the resend stalls too
    smtp_server.drop_next("RCPT", times=2)
    summary, _ = await run_sender(settings)
    assert summary.retried == 2
    later, _ = await run_sender(settings, now=NOW + timedelta(hours=1))
    assert later.sent == 2
    assert Counter(r.rcpt_tos[0] for r in smtp_server.received) == {
        "slow@example.org": 1, "drop@example.org": 1}


async def test_left_after_the_build_means_no_mail(
    db: Database, smtp_server: SmtpServer, smtp_settings: Callable[..., Settings],
    run_sender: RunSender,
) -> None:
    settings = smtp_settings()
    add_papers(db)
    add_subscriber(db, "stay@example.org")
    leaver = add_subscriber(db, "leave@example.org")
    build(db, settings)
    with db.session() as session:
        session.execute(update(Subscriber).where(Subscriber.id == leaver)
                        .values(status=SubscriberStatus.UNSUBSCRIBED))
    summary, _ = await run_sender(settings)
    assert (summary.sent, summary.suppressed) == (1, 1)
    assert statuses(db)["leave@example.org"].status is S.SUPPRESSED
    assert smtp_server.messages_to("leave@example.org") == []


async def test_deleted_papers_and_bad_addresses_do_not_stop_the_batch(
    db: Database, smtp_server: SmtpServer, smtp_settings: Callable[..., Settings],
    run_sender: RunSender,
) -> None:
    settings = smtp_settings()
    add_papers(db)
    add_subscriber(db, "ok@example.org")
    bad = add_subscriber(db, "bad@example.org")
    build(db, settings)
    with db.session() as session:
        session.execute(update(Subscriber).where(Subscriber.id == bad)
                        .values(email="bad address@example.org"))
    summary, _ = await run_sender(settings)
    assert (summary.sent, summary.failed) == (1, 1)
    assert "not a plain email address" in statuses(db)["bad address@example.org"].last_reply

    add_subscriber(db, "late@example.org")
    build(db, settings)
    with db.session() as session:
        session.execute(Paper.__table__.delete())
    summary, _ = await run_sender(settings)
    assert summary.suppressed == 1


async def test_graceful_stop_finishes_in_flight_and_releases_claims(
    db: Database, smtp_server: SmtpServer, smtp_settings: Callable[..., Settings],
    run_sender: RunSender,
) -> None:
    settings = smtp_settings(smtp_rate_limit=50, delivery_batch_size=20)
    add_papers(db)
    add_many(db, 60)
    build(db, settings)
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(0.4, stop.set)
    stopped, _ = await run_sender(settings, stop=stop, until_idle=False)
    assert 0 < stopped.sent < 60
    rows = statuses(db)
    assert Counter(r.status for r in rows.values()) == {S.SENT: stopped.sent,
                                                        S.PENDING: 60 - stopped.sent}
    assert all(r.lease_owner is None for r in rows.values())
    rest, _ = await run_sender(smtp_settings())
    assert rest.sent == 60 - stopped.sent
    assert len(smtp_server.received) == 60  # not one duplicate
