"""The LMTP door over a real loopback socket: smtplib.LMTP in, the store changed."""

from __future__ import annotations

import os
import signal
import smtplib
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from newsletter.config import Settings
from newsletter.inbound.processor import Processor
from newsletter.inbound.verp import bounce_address
from newsletter.store.database import Database
from newsletter.store.models import InboundKind, SubscriberStatus
from tests.delivery.helpers import add_subscriber
from tests.inbound.conftest import DOMAIN, NOW, SENDER, ThreadedLmtp
from tests.inbound.helpers import records, sent_deliveries, subscriber, unsubscribe_token
from tests.inbound.samples import sample
from tests.network import free_port


def _unsubscribe_request(token: str) -> bytes:
    return (f"From: Reader <leaving@example.org>\r\nTo: {SENDER}\r\n"
            f"Subject: unsubscribe {token}\r\nMessage-ID: <u1@example.org>\r\n\r\n\r\n").encode()


def test_unsubscribe_and_bounce_delivered_over_lmtp(
    db: Database, config: Settings, lmtp: ThreadedLmtp,
) -> None:
    leaving = add_subscriber(db, "leaving@example.org")
    gone, (delivery,) = sent_deliveries(db, "gone@example.org")
    verp = bounce_address(config, delivery)
    with smtplib.LMTP("127.0.0.1", lmtp.port) as client:
        client.sendmail("leaving@example.org", [SENDER],
                        _unsubscribe_request(unsubscribe_token(db, config, leaving)))
        client.sendmail("", [verp], sample("postfix_unknown_user.eml", bounce_address=verp))
    assert subscriber(db, leaving).status is SubscriberStatus.UNSUBSCRIBED
    assert subscriber(db, gone).status is SubscriberStatus.BOUNCED
    assert [(r.kind, r.source) for r in records(db)] == [
        (InboundKind.UNSUBSCRIBE, "lmtp"), (InboundKind.HARD_BOUNCE, "lmtp")]


def test_addresses_of_other_domains_are_refused(lmtp: ThreadedLmtp) -> None:
    with smtplib.LMTP("127.0.0.1", lmtp.port) as client, \
            pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        client.sendmail("a@example.org", ["someone@elsewhere.example.org"], b"Subject: x\r\n\r\n")
    (code, reply), = refused.value.recipients.values()
    assert code == 550 and b"not a mailbox of" in reply


def _read_reply(stream: socket.SocketIO, lines: int = 1) -> list[bytes]:
    replies: list[bytes] = []
    while len(replies) < lines:
        line = stream.readline()  # type: ignore[attr-defined]
        assert line, "connection closed"
        if line[3:4] != b"-":
            replies.append(line.strip())
    return replies


def test_one_reply_per_recipient_after_data(
    db: Database, config: Settings, lmtp: ThreadedLmtp,
) -> None:
    """RFC 2033: after the final dot, one reply for each accepted recipient."""
    _, (first, second) = sent_deliveries(db, "twice@example.org", editions=2)
    verps = [bounce_address(config, d) for d in (first, second)]
    with socket.create_connection(("127.0.0.1", lmtp.port), timeout=10) as raw:
        stream = raw.makefile("rb")
        _read_reply(stream)
        for command in (b"LHLO client.example.org", b"MAIL FROM:<>",
                        *(f"RCPT TO:<{v}>".encode() for v in verps), b"DATA"):
            raw.sendall(command + b"\r\n")
            _read_reply(stream)
        raw.sendall(sample("mailbox_full.eml", bounce_address=verps[0]) + b"\r\n.\r\n")
        replies = _read_reply(stream, 2)
        raw.sendall(b"QUIT\r\n")
    assert [r[:3] for r in replies] == [b"250", b"250"]
    assert sorted(r.delivery_id for r in records(db)) == [first, second]


def test_a_store_outage_answers_451_so_the_mta_keeps_the_message(
    config: Settings, tmp_path: Path,
) -> None:
    broken = Database(f"sqlite:///{tmp_path}/missing/none.db")
    server = ThreadedLmtp(Processor(broken, config, clock=lambda: NOW))
    server.start()
    try:
        with smtplib.LMTP("127.0.0.1", server.port) as client, \
                pytest.raises(smtplib.SMTPDataError) as failed:
            client.sendmail("a@example.org", [SENDER], _unsubscribe_request("x"))
        assert failed.value.smtp_code == 451
    finally:
        server.stop()
        broken.dispose()


def test_newsletter_inbound_lmtp_command(
    db: Database, db_url: str, config: Settings, tmp_path: Path,
) -> None:
    leaving = add_subscriber(db, "leaving@example.org")
    port = free_port()
    env = {**os.environ, "NEWSLETTER_DATABASE_URL": db_url, "NEWSLETTER_SECRET_KEY": "t" * 40,
           "NEWSLETTER_SENDER_ADDRESS": SENDER, "NEWSLETTER_VAR_DIR": str(tmp_path / "var")}
    process = subprocess.Popen(
        [sys.executable, "-m", "newsletter", "inbound", "lmtp", "--port", str(port)],
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                client = smtplib.LMTP("127.0.0.1", port)
                break
            except ConnectionRefusedError:
                assert process.poll() is None, process.communicate()[0].decode()
                assert time.monotonic() < deadline, "newsletter inbound lmtp did not listen"
                time.sleep(0.2)
        with client:
            client.sendmail("leaving@example.org", [SENDER],
                            _unsubscribe_request(unsubscribe_token(db, config, leaving)))
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=30)[0].decode()
    assert process.returncode == 0, output
    assert f"LMTP listening on 127.0.0.1:{port}" in output and "LMTP server stopped" in output
    assert subscriber(db, leaving).status is SubscriberStatus.UNSUBSCRIBED
    assert DOMAIN in SENDER


def test_newsletter_inbound_lmtp_reports_a_busy_port(
    db_url: str, tmp_path: Path,
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "NEWSLETTER_DATABASE_URL": db_url,
               "NEWSLETTER_VAR_DIR": str(tmp_path / "var")}
        result = subprocess.run(
            [sys.executable, "-m", "newsletter", "inbound", "lmtp", "--port", str(port)],
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
        )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
