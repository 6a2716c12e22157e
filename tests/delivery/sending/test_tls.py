"""STARTTLS, implicit TLS and AUTH from ``NEWSLETTER_SMTP_URL``, with one shared SSLContext;
``auto`` upgrades whenever offered, ``require`` fails closed, a private CA file is trusted and a
certificate failure stops the sender at once (real aiosmtpd servers, a trustme test CA)."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import func, select

from newsletter.config import Settings
from newsletter.delivery.ledger.outbox import queue_account_email
from newsletter.delivery.sending.pool import SmtpPool
from newsletter.delivery.sending.transport import make_transport
from newsletter.errors import ConfigurationError, TemporaryDeliveryError
from newsletter.store.database import Database
from newsletter.store.models import Delivery, DeliveryKind, DeliveryStatus
from tests.delivery.conftest import RunSender
from tests.delivery.helpers import NOW, add_subscriber
from tests.delivery.sending.test_transport import SENDER, wire
from tests.smtp_server import SmtpServer


def check_login(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"bot", b"s3cret")
    return AuthResult(success=ok, handled=False)


def server_context(files: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*files)
    return context


@pytest.fixture
def starttls_server(tls_files: tuple[Path, Path]) -> Iterator[SmtpServer]:
    server = SmtpServer(tls_context=server_context(tls_files), require_starttls=True,
                        authenticator=check_login, auth_require_tls=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def implicit_server(tls_files: tuple[Path, Path]) -> Iterator[SmtpServer]:
    server = SmtpServer(ssl_context=server_context(tls_files))
    server.start()
    yield server
    server.stop()


async def test_starttls_and_auth_over_a_pool_sharing_one_context(
    starttls_server: SmtpServer, tls_files: tuple[Path, Path],
    make_settings: Callable[..., Settings],
) -> None:
    client = ssl.create_default_context(cafile=str(tls_files[0]))
    url = f"smtp://bot:s3cret@127.0.0.1:{starttls_server.port}?tls=starttls"
    settings = make_settings(smtp_url=url, smtp_pool_size=3, smtp_timeout=5)
    pool = make_transport(settings, tls_context=client)
    assert isinstance(pool, SmtpPool)
    await asyncio.gather(*(
        pool.send_raw(SENDER, f"r{n}@example.org", wire(settings, f"r{n}@example.org"))
        for n in range(6)
    ))
    connections = list(pool._idle)
    await pool.close()
    assert len(starttls_server.received) == 6
    assert len(connections) == 3
    assert all(c.smtp.tls_context is client for c in connections)  # one context for all


async def test_wrong_password_is_a_temporary_error(
    starttls_server: SmtpServer, tls_files: tuple[Path, Path],
    make_settings: Callable[..., Settings],
) -> None:
    client = ssl.create_default_context(cafile=str(tls_files[0]))
    url = f"smtp://bot:wrong@127.0.0.1:{starttls_server.port}?tls=starttls"
    pool = make_transport(make_settings(smtp_url=url, smtp_timeout=5), tls_context=client)
    with pytest.raises(TemporaryDeliveryError, match="535"):
        await pool.send_raw(SENDER, "a@example.org", wire(make_settings(), "a@example.org"))
    await pool.close()
    assert starttls_server.received == []


async def test_implicit_tls(
    implicit_server: SmtpServer, tls_files: tuple[Path, Path],
    make_settings: Callable[..., Settings],
) -> None:
    client = ssl.create_default_context(cafile=str(tls_files[0]))
    url = f"smtps://127.0.0.1:{implicit_server.port}"
    settings = make_settings(smtp_url=url, smtp_timeout=5)
    assert settings.smtp() is not None and settings.smtp().tls == "implicit"  # type: ignore[union-attr]
    pool = make_transport(settings, tls_context=client)
    await pool.send_raw(SENDER, "a@example.org", wire(settings, "a@example.org"))
    await pool.close()
    assert len(implicit_server.received) == 1


# --- a private CA (trustme), as an operator with an internal relay has -------------------------
@pytest.fixture(scope="module")
def test_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(test_ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "private-ca.pem"
    test_ca.cert_pem.write_to_path(str(path))
    return path


def _private_server(test_ca: trustme.CA, **kwargs: Any) -> SmtpServer:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    test_ca.issue_cert("127.0.0.1").configure_cert(context)
    return SmtpServer(tls_context=context, **kwargs)


@pytest.fixture
def private_starttls_server(test_ca: trustme.CA) -> Iterator[SmtpServer]:
    """Offers STARTTLS and refuses mail sent without it (530)."""
    server = _private_server(test_ca, require_starttls=True)
    server.start()
    yield server
    server.stop()


def _queue_welcome(db: Database, email: str) -> int:
    subscriber = add_subscriber(db, email)
    with db.session() as session:
        queue_account_email(session, subscriber, DeliveryKind.WELCOME, now=NOW)
        session.flush()
        return int(session.scalar(select(func.max(Delivery.id))) or 0)


def _row(db: Database, delivery_id: int) -> Delivery:
    with db.session() as session:
        found = session.get(Delivery, delivery_id)
        assert found is not None
        return found


async def test_auto_upgrades_whenever_starttls_is_offered_trusting_the_ca_file(
    db: Database, private_starttls_server: SmtpServer, ca_file: Path,
    make_settings: Callable[..., Settings], run_sender: RunSender,
) -> None:
    # No tls= in the URL and port 25-style: auto. The server refuses clear-text mail, so
    # arriving proves the upgrade; verifying proves NEWSLETTER_SMTP_CA_FILE was used.
    url = f"smtp://127.0.0.1:{private_starttls_server.port}"
    settings = make_settings(smtp_url=url, smtp_ca_file=ca_file, smtp_timeout=5)
    assert settings.smtp().tls == "auto"  # type: ignore[union-attr]
    delivery = _queue_welcome(db, "reader@example.org")
    summary, _ = await run_sender(settings)
    assert summary.sent == 1 and _row(db, delivery).status is DeliveryStatus.SENT
    assert len(private_starttls_server.messages_to("reader@example.org")) == 1


async def test_an_untrusted_certificate_stops_the_sender_at_once(
    db: Database, private_starttls_server: SmtpServer,
    make_settings: Callable[..., Settings], run_sender: RunSender,
) -> None:
    """The system CAs do not know the private CA: a configuration error, reported at once,
    the row left pending with no attempt counted (not 8 retries as if the relay were busy)."""
    url = f"smtp://127.0.0.1:{private_starttls_server.port}?tls=require"
    settings = make_settings(smtp_url=url, smtp_timeout=5)
    delivery = _queue_welcome(db, "reader@example.org")
    with pytest.raises(ConfigurationError, match="NEWSLETTER_SMTP_CA_FILE") as caught:
        await run_sender(settings)
    assert "certificate" in str(caught.value)
    row = _row(db, delivery)
    assert (row.status, row.attempts, row.lease_owner) == (DeliveryStatus.PENDING, 0, None)
    assert private_starttls_server.received == []


async def test_require_fails_closed_when_starttls_is_not_offered(
    db: Database, smtp_server: SmtpServer, ca_file: Path,
    make_settings: Callable[..., Settings], run_sender: RunSender,
) -> None:
    url = f"smtp://127.0.0.1:{smtp_server.port}?tls=require"
    settings = make_settings(smtp_url=url, smtp_ca_file=ca_file, smtp_timeout=5)
    delivery = _queue_welcome(db, "reader@example.org")
    with pytest.raises(ConfigurationError, match="does not offer STARTTLS"):
        await run_sender(settings)
    assert _row(db, delivery).status is DeliveryStatus.PENDING
    assert _row(db, delivery).attempts == 0
    assert smtp_server.received == []


async def test_auto_still_sends_to_a_relay_without_tls(
    db: Database, smtp_server: SmtpServer, make_settings: Callable[..., Settings],
    run_sender: RunSender,
) -> None:
    """Opportunistic: a local relay that offers no STARTTLS gets the mail in clear."""
    settings = make_settings(smtp_url=f"smtp://127.0.0.1:{smtp_server.port}", smtp_timeout=5)
    _queue_welcome(db, "reader@example.org")
    summary, _ = await run_sender(settings)
    assert summary.sent == 1 and len(smtp_server.received) == 1
