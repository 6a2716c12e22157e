"""Fixtures for inbound tests: settings for our mail domain, the processor, an LMTP server."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from newsletter.config import Settings
from newsletter.inbound.lmtp import LmtpServer
from newsletter.inbound.processor import Processor
from newsletter.store.database import Database
from tests.network import free_port

DOMAIN = "newsletter.example.org"
SENDER = f"digest@{DOMAIN}"
NOW = datetime(2024, 5, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def config(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(sender_address=SENDER, base_url="https://papers.example.org",
                         delivery_hard_bounce_limit=3)


@pytest.fixture
def processor(db: Database, config: Settings) -> Processor:
    return Processor(db, config, clock=lambda: NOW)


class ThreadedLmtp:
    """The product's LMTP server on its own event loop in a thread, on a real loopback port."""

    def __init__(self, processor: Processor, port: int | None = None) -> None:
        self.server = LmtpServer(processor, host="127.0.0.1", port=port or free_port())
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        await self.server.start()
        self._ready.set()
        await self._stop.wait()
        await self.server.stop()

    @property
    def port(self) -> int:
        return self.server.port

    def start(self) -> None:
        self._thread.start()
        assert self._ready.wait(10), "LMTP server did not start"

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


@pytest.fixture
def lmtp(processor: Processor) -> Iterator[ThreadedLmtp]:
    server = ThreadedLmtp(processor)
    server.start()
    yield server
    server.stop()
