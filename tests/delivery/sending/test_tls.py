"""STARTTLS, implicit TLS and AUTH from ``NEWSLETTER_SMTP_URL``, with one shared SSLContext."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from newsletter.config import Settings
from newsletter.delivery.sending.pool import SmtpPool
from newsletter.delivery.sending.transport import make_transport
from newsletter.errors import TemporaryDeliveryError
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
