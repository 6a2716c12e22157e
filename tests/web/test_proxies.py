"""X-Forwarded-For through real uvicorn, configured as ``newsletter serve`` configures it:
ignored unless it comes from a proxy named in NEWSLETTER_TRUSTED_PROXIES."""

from __future__ import annotations

import socket
from collections.abc import Callable

import httpx
import pytest

from newsletter.config import Settings
from newsletter.errors import ConfigurationError
from newsletter.store.database import Database
from tests.smtp_server import SmtpServer
from tests.web.helpers import serving, subscribe


def _flood(
    make_settings: Callable[..., Settings], db: Database, smtp: SmtpServer, trusted: str,
    forwarded: Callable[[int], str],
) -> list[int]:
    """Five sign-ups from 127.0.0.1, each claiming the client address ``forwarded(i)``."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = make_settings(
        database_url=db.url, base_url=base, smtp_url=smtp.url,
        subscribe_rate_limit_per_minute=3, trusted_proxies=trusted,
    )
    codes = []
    with sock, serving(settings, db, sock):
        for i in range(5):
            with httpx.Client(base_url=base, headers={"X-Forwarded-For": forwarded(i)}) as client:
                codes.append(subscribe(client, f"user{i}@example.org").status_code)
    return codes


def test_a_rotated_forwarded_for_does_not_dodge_the_limit_by_default(
    make_settings: Callable[..., Settings], db: Database, smtp_server: SmtpServer
) -> None:
    codes = _flood(make_settings, db, smtp_server, "", lambda i: f"203.0.113.{i}")
    assert codes == [200, 200, 200, 429, 429]


def test_a_trusted_proxy_is_believed(
    make_settings: Callable[..., Settings], db: Database, smtp_server: SmtpServer
) -> None:
    rotated = _flood(make_settings, db, smtp_server, "127.0.0.0/8", lambda i: f"203.0.113.{i}")
    assert rotated == [200] * 5  # five people behind our proxy
    same = _flood(make_settings, db, smtp_server, "127.0.0.1", lambda i: "198.51.100.7")
    assert same == [200, 200, 200, 429, 429]  # one person behind it, limited


@pytest.mark.parametrize("value", ["*", "proxy.example.org", "10.0.0.0/33"])
def test_a_trusted_proxy_must_be_an_address(
    make_settings: Callable[..., Settings], value: str
) -> None:
    with pytest.raises(ConfigurationError, match=r"NEWSLETTER_TRUSTED_PROXIES: .* is not an IP"):
        make_settings(trusted_proxies=value)
