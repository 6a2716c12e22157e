"""Inbound mail through a real Postfix: a digest to a user that does not exist comes back as a
DSN to its VERP envelope sender, Postfix hands it to our LMTP server, and the reader is marked
bounced; a reader's unsubscribe email to the digest's ``mailto:`` goes the same way.

Postfix runs from its own temporary configuration (see ``tests/inbound/daemons.py``): it takes
mail for ``readers.example.org`` (local(8): an unknown user bounces, ``nobody`` gets a mailbox
in the test folder) and routes ``newsletter.example.org`` to the LMTP port by ``transport_maps``,
as an operator would set it up for ``newsletter inbound lmtp``.
"""

from __future__ import annotations

import mailbox
import os
import smtplib
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.message import Message
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from typer.testing import CliRunner

from newsletter.cli.app import app
from newsletter.config import Settings
from newsletter.inbound.processor import Processor
from newsletter.store.database import Database
from newsletter.store.models import InboundKind, SubscriberStatus
from tests.delivery.helpers import add_papers, add_subscriber
from tests.inbound.conftest import DOMAIN, SENDER, ThreadedLmtp
from tests.inbound.daemons import Postfix, running
from tests.inbound.helpers import records, subscriber

READERS = "readers.example.org"
pytestmark = pytest.mark.slow


@pytest.fixture
def processor(db: Database, config: Settings) -> Processor:
    """On the real clock: ``newsletter status`` counts what came in the last 7 days."""
    return Processor(db, config)


@pytest.fixture
def postfix(lmtp: ThreadedLmtp) -> Iterator[Postfix]:
    def make(folder: Path) -> Postfix:
        return Postfix(folder, local_domain=READERS, our_domain=DOMAIN, lmtp_port=lmtp.port)

    with running("newsletter-postfix-", make) as daemon:
        yield daemon


def _wait(condition: Callable[[], bool], what: str, log: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise AssertionError(f"timed out waiting for {what}; Postfix log:\n{tail}")
        time.sleep(0.2)


def _delivered(spool: Path) -> list[Message]:
    if not spool.exists():
        return []
    return list(mailbox.mbox(spool))


def test_postfix_dsn_marks_the_reader_bounced_and_mailto_unsubscribes(
    db: Database, db_url: str, config: Settings, postfix: Postfix,
    cli_env: Callable[..., None],
) -> None:
    add_papers(db, now=datetime.now(UTC))
    gone = add_subscriber(db, f"no-such-reader-{os.getpid()}@{READERS}")
    reader = add_subscriber(db, f"nobody@{READERS}")
    cli_env(database_url=db_url, smtp_url=f"smtp://127.0.0.1:{postfix.port}?tls=none",
            secret_key="t" * 40, sender_address=SENDER, base_url="https://papers.example.org",
            smtp_timeout="10")
    cli = CliRunner()
    assert cli.invoke(app, ["edition", "build"]).exit_code == 0
    sent = cli.invoke(app, ["send"])
    assert "sent 2, retrying 0, failed 0" in sent.output, sent.output

    # The relay accepted both; the unknown user's bounce comes back by mail, over LMTP.
    _wait(lambda: subscriber(db, gone).status is SubscriberStatus.BOUNCED,
          "the DSN to mark the unknown reader bounced", postfix.log)
    (bounce,) = records(db)
    assert (bounce.kind, bounce.subscriber_id, bounce.status) == (
        InboundKind.HARD_BOUNCE, gone, "5.1.1")
    assert bounce.delivery_id is not None

    # The other reader got the digest; their mail client follows its List-Unsubscribe mailto.
    spool = postfix.folder / "spool" / "nobody"
    _wait(lambda: bool(_delivered(spool)), "the digest in nobody's mailbox", postfix.log)
    (digest,) = _delivered(spool)
    links = [part.strip().strip("<>") for part in str(digest["List-Unsubscribe"]).split(",")]
    (mailto,) = [link for link in links if link.startswith("mailto:")]
    target = urlsplit(mailto)
    subject = unquote(parse_qs(target.query)["subject"][0])
    assert target.path == SENDER and subject.startswith("unsubscribe ")
    with smtplib.SMTP("127.0.0.1", postfix.port, timeout=10) as smtp:
        smtp.sendmail(f"nobody@{READERS}", [target.path],
                      f"From: nobody@{READERS}\r\nTo: {target.path}\r\nSubject: {subject}\r\n"
                      f"Message-ID: <unsub.{os.getpid()}@{READERS}>\r\n\r\n\r\n".encode())
    _wait(lambda: subscriber(db, reader).status is SubscriberStatus.UNSUBSCRIBED,
          "the emailed unsubscribe request", postfix.log)

    status = cli.invoke(app, ["status"])
    assert status.exit_code == 0, status.output
    rows = {line.split("│")[1].strip(): line for line in status.output.splitlines()
            if line.count("│") > 3}
    assert [c.strip() for c in rows["hard bounce"].split("│")[2:4]] == ["1", "1"]
    assert [c.strip() for c in rows["unsubscribe"].split("│")[2:4]] == ["1", "1"]
