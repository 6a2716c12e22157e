"""The IMAP door against a real Dovecot: messages a relay left in the mailbox are handled once,
flagged, and the service polls the mailbox on its own when NEWSLETTER_INBOUND_IMAP_URL is set."""

from __future__ import annotations

import asyncio
import imaplib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsletter.cli.app import app
from newsletter.config import ImapConfig, Settings, load_settings
from newsletter.inbound.imap import KEYWORD, MailboxError, poll_forever, poll_once
from newsletter.inbound.processor import Processor
from newsletter.inbound.verp import bounce_address
from newsletter.store.database import Database
from newsletter.store.models import InboundKind, SubscriberStatus
from tests.delivery.helpers import add_subscriber
from tests.inbound.conftest import SENDER
from tests.inbound.daemons import Dovecot, running
from tests.inbound.helpers import records, sent_deliveries, subscriber, unsubscribe_token
from tests.inbound.samples import sample
from tests.network import free_port

USER, PASSWORD = "bounces", "s3cret/pass"
pytestmark = pytest.mark.slow


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    with running("newsletter-dovecot-", lambda f: Dovecot(f, user=USER, password=PASSWORD)) as d:
        yield d


def _mailbox(dovecot: Dovecot) -> ImapConfig:
    return ImapConfig("127.0.0.1", dovecot.port, USER, PASSWORD, "INBOX", "none")


def _append(dovecot: Dovecot, *messages: bytes) -> None:
    client = imaplib.IMAP4("127.0.0.1", dovecot.port, timeout=10)
    client.login(USER, PASSWORD)
    for raw in messages:
        assert client.append("INBOX", None, None, raw)[0] == "OK"
    client.logout()


def _flags(dovecot: Dovecot) -> list[bytes]:
    client = imaplib.IMAP4("127.0.0.1", dovecot.port, timeout=10)
    client.login(USER, PASSWORD)
    client.select("INBOX", readonly=True)
    _, data = client.fetch("1:*", "(FLAGS)")
    client.logout()
    return [item for item in data if isinstance(item, bytes)]


def _unsubscribe(token: str) -> bytes:
    return (f"From: leaving@example.org\r\nTo: {SENDER}\r\nSubject: unsubscribe {token}\r\n"
            "Message-ID: <imap-unsub@example.org>\r\n\r\n\r\n").encode()


def test_poll_handles_each_message_once_and_flags_it(
    db: Database, config: Settings, processor: Processor, dovecot: Dovecot,
) -> None:
    leaving = add_subscriber(db, "leaving@example.org")
    gone, (delivery,) = sent_deliveries(db, "gone@example.org")
    verp = bounce_address(config, delivery)
    _append(
        dovecot,
        sample("postfix_unknown_user.eml", bounce_address=verp),
        _unsubscribe(unsubscribe_token(db, config, leaving)),
        sample("vacation.eml", bounce_address=verp),
        b"Subject: =?broken\r\nContent-Type: multipart/report; boundary=\r\n\r\n--\r\n\x00\xff",
    )
    result = poll_once(_mailbox(dovecot), processor)
    assert (result.fetched, result.handled) == (4, 4)
    assert result.by_kind == {"hard_bounce": 1, "unsubscribe": 1, "ignored": 2}
    assert subscriber(db, gone).status is SubscriberStatus.BOUNCED
    assert subscriber(db, leaving).status is SubscriberStatus.UNSUBSCRIBED
    assert all(b"\\Seen" in f and KEYWORD.encode() in f for f in _flags(dovecot))
    assert {r.source for r in records(db)} == {"imap"}

    again = poll_once(_mailbox(dovecot), processor)
    assert again.fetched == 0 and len(records(db)) == 4


def test_a_message_polled_twice_changes_nothing_the_second_time(
    db: Database, config: Settings, processor: Processor, dovecot: Dovecot,
) -> None:
    """A crash after the commit but before the flag: the fingerprint keeps it idempotent."""
    reader, deliveries = sent_deliveries(db, "full@example.net", editions=1)
    verp = bounce_address(config, deliveries[0])
    _append(dovecot, sample("mailbox_full.eml", bounce_address=verp))
    poll_once(_mailbox(dovecot), processor)
    client = imaplib.IMAP4("127.0.0.1", dovecot.port, timeout=10)
    client.login(USER, PASSWORD)
    client.select("INBOX")
    client.store("1", "-FLAGS", f"(\\Seen {KEYWORD})")
    client.logout()
    assert poll_once(_mailbox(dovecot), processor).handled == 1
    assert subscriber(db, reader).hard_bounces == 1
    assert len(records(db)) == 1


def test_wrong_password_and_no_server_are_mailbox_errors(
    processor: Processor, dovecot: Dovecot,
) -> None:
    wrong = ImapConfig("127.0.0.1", dovecot.port, USER, "nope", "INBOX", "none")
    with pytest.raises(MailboxError):
        poll_once(wrong, processor, timeout=10)
    with pytest.raises(MailboxError, match="cannot reach"):
        poll_once(ImapConfig("127.0.0.1", free_port(), USER, PASSWORD, "INBOX", "none"),
                  processor, timeout=5)


async def test_poll_forever_keeps_polling_until_stopped(
    db: Database, config: Settings, processor: Processor, dovecot: Dovecot,
) -> None:
    leaving = add_subscriber(db, "leaving@example.org")
    stop = asyncio.Event()
    task = asyncio.create_task(poll_forever(_mailbox(dovecot), processor, interval=0.2,
                                            stop=stop))
    await asyncio.sleep(0.5)  # a first, empty poll has run
    _append(dovecot, _unsubscribe(unsubscribe_token(db, config, leaving)))
    for _ in range(100):
        if subscriber(db, leaving).status is SubscriberStatus.UNSUBSCRIBED:
            break
        await asyncio.sleep(0.1)
    stop.set()
    await asyncio.wait_for(task, 10)
    assert subscriber(db, leaving).status is SubscriberStatus.UNSUBSCRIBED


def test_newsletter_inbound_poll_command(
    db: Database, db_url: str, config: Settings, dovecot: Dovecot,
    cli_env: Callable[..., None],
) -> None:
    leaving = add_subscriber(db, "leaving@example.org")
    _append(dovecot, _unsubscribe(unsubscribe_token(db, config, leaving)))
    url = f"imap://{USER}:s3cret%2Fpass@127.0.0.1:{dovecot.port}/INBOX?tls=none"
    cli_env(database_url=db_url, secret_key="t" * 40, sender_address=SENDER,
            inbound_imap_url=url)
    result = CliRunner().invoke(app, ["inbound", "poll"])
    assert result.exit_code == 0, result.output
    assert "1 message(s) handled: unsubscribe 1" in result.output
    assert subscriber(db, leaving).status is SubscriberStatus.UNSUBSCRIBED


def test_serve_polls_the_mailbox_when_configured(tmp_path: Path, dovecot: Dovecot) -> None:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    env = {
        **os.environ, "NEWSLETTER_DATABASE_URL": url, "NEWSLETTER_VAR_DIR": str(tmp_path / "var"),
        "NEWSLETTER_SECRET_KEY": "t" * 40, "NEWSLETTER_SENDER_ADDRESS": SENDER,
        "NEWSLETTER_INGEST_SOURCES": "file", "NEWSLETTER_INBOUND_IMAP_INTERVAL_SECONDS": "1",
        "NEWSLETTER_INBOUND_IMAP_URL":
            f"imap://{USER}:s3cret%2Fpass@127.0.0.1:{dovecot.port}?tls=none",
    }
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "newsletter", "serve", "--port", str(free_port())],
            cwd=tmp_path, env=env, stdout=sink, stderr=subprocess.STDOUT,
        )
    db = Database(url)
    try:
        deadline = time.monotonic() + 60
        while "Uvicorn running" not in log.read_text(errors="replace"):
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        leaving = add_subscriber(db, "leaving@example.org")
        settings = load_settings(secret_key="t" * 40, sender_address=SENDER, database_url=url)
        _append(dovecot, _unsubscribe(unsubscribe_token(db, settings, leaving)))
        while subscriber(db, leaving).status is not SubscriberStatus.UNSUBSCRIBED:
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)
        db.dispose()
    assert process.returncode == 0, log.read_text()
    assert [r.kind for r in records(Database(url))] == [InboundKind.UNSUBSCRIBE]
