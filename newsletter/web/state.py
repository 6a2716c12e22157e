"""What every route needs, built once by the app factory and found on ``app.state``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request

from newsletter.clock import utc_now
from newsletter.config import Settings
from newsletter.store.database import Database
from newsletter.web.catalog import CatalogEntry
from newsletter.web.pages import Pages
from newsletter.web.security import ClientRateLimit, Csrf
from newsletter.web.trending import TrendingCache

log = logging.getLogger(__name__)



@dataclass
class Web:
    settings: Settings
    db: Database
    pages: Pages
    csrf: Csrf
    limiter: ClientRateLimit
    catalog: tuple[CatalogEntry, ...]
    clock: Callable[[], datetime] = utc_now
    scheduler_running: Callable[[], bool] | None = None
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    trending: TrendingCache = field(default_factory=TrendingCache)
    # Set when a request queued an account email, so the in-process sender need not wait for
    # its next poll. Only a nudge: the email itself is a committed ledger row.
    mail_waiting: asyncio.Event = field(default_factory=asyncio.Event)

    def now(self) -> datetime:
        return self.clock()

    def mail_queued(self) -> None:
        self.mail_waiting.set()

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` after the response (development conveniences only: email never leaves
        this way, it goes through the ledger). Shutdown waits for these."""
        task = asyncio.get_running_loop().create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background work failed", exc_info=task.exception())

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait for background work before the process stops."""
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=timeout)


async def get_web(request: Request) -> Web:
    """``async`` on purpose: FastAPI runs a plain ``def`` dependency in the threadpool, and that
    hop, taken on every request, was 5% of the service's CPU under sign-up load (py-spy) and
    queued each request behind threads blocked on the database."""
    web: Web = request.app.state.web
    return web


WebDep = Annotated[Web, Depends(get_web)]
