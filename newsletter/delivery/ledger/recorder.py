"""Batching outcomes into few commits, with a hard cap on how many can be unrecorded.

A commit per message would make the database the bottleneck, so outcomes are written every
``size`` outcomes or ``interval`` seconds, whichever comes first. The price is the crash
window: a sender killed before a write loses the record of at most ``limit`` sends (those
being written included), and those are sent again after their lease expires. ``add`` blocks
when ``limit`` are waiting, so the window can never grow beyond it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import suppress

from newsletter.delivery.ledger.outcomes import Outcome

FLUSH_SIZE = 20
FLUSH_INTERVAL = 0.1
MAX_UNRECORDED = 50


class Recorder:
    def __init__(
        self,
        write: Callable[[list[Outcome]], Awaitable[None]],
        *,
        size: int = FLUSH_SIZE,
        interval: float = FLUSH_INTERVAL,
        limit: int = MAX_UNRECORDED,
        tick: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.write = write
        self.size, self.interval, self.limit = size, interval, limit
        self.tick = tick
        self._waiting: list[Outcome] = []
        self._unrecorded = 0
        self._kick = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._closed = False

    async def add(self, outcome: Outcome) -> None:
        while self._unrecorded >= self.limit:
            self._room.clear()
            await self._room.wait()
        self._waiting.append(outcome)
        self._unrecorded += 1
        if len(self._waiting) >= self.size:
            self._kick.set()

    async def flush(self) -> None:
        batch, self._waiting = self._waiting, []
        try:
            if batch:
                await self.write(batch)
        finally:
            self._unrecorded -= len(batch)
            self._room.set()

    async def run(self) -> None:
        """Flush loop; returns after :meth:`close` once everything is written."""
        while True:
            with suppress(TimeoutError):
                await asyncio.wait_for(self._kick.wait(), self.interval)
            self._kick.clear()
            await self.flush()
            if self.tick is not None:
                await self.tick()
            if self._closed and not self._waiting:
                return

    def close(self) -> None:
        self._closed = True
        self._kick.set()
