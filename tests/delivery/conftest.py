"""Fixtures for delivery tests: settings pointed at the test SMTP server, a sender runner."""

from __future__ import annotations

import random
import subprocess
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from newsletter.config import Settings
from newsletter.delivery.sending.sender import Sender, Summary
from newsletter.delivery.sending.transport import make_transport
from newsletter.store.database import Database
from tests.delivery.helpers import NOW
from tests.smtp_server import SmtpServer

RunSender = Callable[..., Awaitable[tuple[Summary, Sender]]]


@pytest.fixture
def smtp_settings(
    smtp_server: SmtpServer, make_settings: Callable[..., Settings]
) -> Callable[..., Settings]:
    """Settings sending to the test server, with small timeouts and quick retries."""

    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "smtp_url": smtp_server.url, "smtp_timeout": 5.0, "smtp_pool_size": 2,
            "delivery_backoff_seconds": 60, "sender_address": "digest@papers.example.org",
            "base_url": "https://papers.example.org",
        }
        values.update(overrides)
        return make_settings(**values)

    return build


@pytest.fixture
def run_sender(db: Database) -> RunSender:
    """Run one sender until nothing is due, at a fixed clock."""

    async def run(settings: Settings, *, now: datetime = NOW, owner: str = "test",
                  **kwargs: Any) -> tuple[Summary, Sender]:
        transport = make_transport(settings)
        sender = Sender(db, settings, transport, owner=owner, rng=random.Random(7),
                        clock=lambda: now)
        try:
            summary = await sender.run(**kwargs)
        finally:
            await transport.close()
        return summary, sender

    return run


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (cert, key)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    return cert, key
