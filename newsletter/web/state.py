"""What every route needs, built once by the app factory and found on ``app.state``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request

from newsletter.config import Settings
from newsletter.delivery.sending.transport import Transport
from newsletter.store.database import Database
from newsletter.web.catalog import CatalogEntry
from newsletter.web.pages import Pages
from newsletter.web.security import Csrf, RateLimiter
from newsletter.web.trending import TrendingCache

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Web:
    settings: Settings
    db: Database
    pages: Pages
    csrf: Csrf
    limiter: RateLimiter
    catalog: tuple[CatalogEntry, ...]
    clock: Callable[[], datetime] = utc_now
    transport: Transport | None = None
    scheduler_running: Callable[[], bool] | None = None
    transport_factory: Callable[[], Transport] | None = None
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    trending: TrendingCache = field(default_factory=TrendingCache)

    def now(self) -> datetime:
        return self.clock()

    def mailer(self) -> Transport:
        """The transport, made on first use: an SMTP pool belongs to the loop that made it."""
        if self.transport is None:
            if self.transport_factory is None:  # pragma: no cover - the factory always sets one
                raise RuntimeError("no mail transport configured")
            self.transport = self.transport_factory()
        return self.transport


    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` after the response, without holding the connection: a keep-alive
        client's next request must not wait for an SMTP round trip. Shutdown waits for these."""
        task = asyncio.get_running_loop().create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background work failed", exc_info=task.exception())

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait for background work (emails being sent) before the process stops."""
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=timeout)


def get_web(request: Request) -> Web:
    web: Web = request.app.state.web
    return web


WebDep = Annotated[Web, Depends(get_web)]
