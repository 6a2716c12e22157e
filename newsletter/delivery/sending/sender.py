"""The sending loop: claim from the ledger, compose, send through the pool, record outcomes.

Guarantees, and their price:

* Nothing is lost. A row leaves ``pending``/``sending`` only when its outcome is committed;
  a sender killed at any moment leaves its rows ``sending`` under a lease, and whoever runs
  next puts them back to ``pending`` once the lease expires, and sends them.
* Duplicates are bounded. Only messages the server accepted whose outcome was not committed
  yet can go out twice after a kill: at most ``smtp_pool_size`` in flight plus
  ``recorder.MAX_UNRECORDED`` (50) awaiting their batched commit (every 20 outcomes or
  100 ms; committing each one alone cost a third of the sending rate). A graceful stop
  (SIGTERM) finishes in-flight messages, commits every outcome and releases unsent claims,
  so it duplicates nothing.
* Ambiguous sends are not resent. When the link dies after the final "." and before the
  reply, the server may well have queued the message; a duplicate digest is worse than a
  rare miss, so the row becomes ``ambiguous``, shows in ``newsletter status``, and only an
  operator's ``newsletter send --retry-ambiguous`` queues it again.
* One address's failure never stops the batch: every error becomes that row's outcome.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from newsletter.config import Settings
from newsletter.delivery.ledger.claims import Claimed, Ledger
from newsletter.delivery.ledger.outcomes import Outcome, record_outcomes
from newsletter.delivery.ledger.recorder import Recorder
from newsletter.delivery.messages.compose import Composer
from newsletter.delivery.sending.deliver import deliver_one
from newsletter.delivery.sending.transport import Transport
from newsletter.store.database import Database
from newsletter.store.models import DeliveryStatus

log = logging.getLogger(__name__)
T = TypeVar("T")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Summary:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    ambiguous: int = 0
    suppressed: int = 0

    def add(self, outcome: Outcome) -> None:
        name = {DeliveryStatus.PENDING: "retried"}.get(outcome.status, outcome.status.value)
        setattr(self, name, getattr(self, name) + 1)


class Sender:
    """One sender (``owner``) working the ledger through one transport; one :meth:`run` each.

    If the database fails while outcomes are being written, :meth:`run` raises and the rows
    stay ``sending`` until their lease expires: like a kill, it may resend that batch.
    """

    def __init__(
        self,
        db: Database,
        settings: Settings,
        transport: Transport,
        *,
        owner: str,
        rng: random.Random,
        clock: Callable[[], datetime] = utc_now,
        on_outcome: Callable[[Outcome], None] | None = None,
    ) -> None:
        self.db, self.settings, self.transport = db, settings, transport
        self.rng, self.clock, self.on_outcome = rng, clock, on_outcome
        self.ledger = Ledger(db, owner=owner, lease_seconds=settings.delivery_lease_seconds)
        self.composer = Composer(settings)
        self.summary = Summary()
        self._db_thread = ThreadPoolExecutor(1, thread_name_prefix="ledger")
        self._unsent: list[int] = []
        self._last_extend = 0.0

    async def _db(self, function: Callable[..., T], *args: Any) -> T:
        """Database work runs on one thread of its own, so the event loop keeps sending."""
        return await asyncio.get_running_loop().run_in_executor(self._db_thread, function, *args)

    async def run(
        self,
        *,
        edition_id: int | None = None,
        stop: asyncio.Event | None = None,
        until_idle: bool = True,
        poll_seconds: float = 5.0,
    ) -> Summary:
        """Send until nothing is due (``until_idle``) or until ``stop`` is set."""
        stop = stop or asyncio.Event()
        queue: asyncio.Queue[Claimed | None] = asyncio.Queue(self.settings.delivery_batch_size)
        recorder = Recorder(self._write, tick=self._extend_leases)
        flusher = asyncio.create_task(recorder.run())
        workers = [
            asyncio.create_task(self._work(queue, recorder, stop))
            for _ in range(self.settings.smtp_pool_size)
        ]
        try:
            await self._produce(queue, stop, edition_id, until_idle, poll_seconds)
        finally:
            for _ in workers:
                await queue.put(None)
            await asyncio.gather(*workers, return_exceptions=True)
            recorder.close()
            await flusher
            await self._db(self.ledger.release, self._unsent)
            self._db_thread.shutdown(wait=True)
        return self.summary

    async def _produce(
        self, queue: asyncio.Queue[Claimed | None], stop: asyncio.Event,
        edition_id: int | None, until_idle: bool, poll_seconds: float,
    ) -> None:
        while not stop.is_set():
            claims = await self._db(self._claim, self.clock(), edition_id)
            if not claims:
                if until_idle:
                    return
                await _wait(stop, poll_seconds)
                continue
            for index, claim in enumerate(claims):
                if stop.is_set():
                    self._unsent.extend(c.id for c in claims[index:])
                    return
                await queue.put(claim)

    def _claim(self, now: datetime, edition_id: int | None) -> list[Claimed]:
        """Runs on the database thread: reclaim the dead's rows, claim, fetch missing papers."""
        self.ledger.reclaim_expired(now)
        claims, suppressed = self.ledger.claim(now, self.settings.delivery_batch_size, edition_id)
        self.summary.suppressed += suppressed
        self.composer.add_papers(self.ledger.papers(self.composer.missing_papers(claims)))
        return claims

    async def _work(
        self, queue: asyncio.Queue[Claimed | None], recorder: Recorder, stop: asyncio.Event
    ) -> None:
        while (claim := await queue.get()) is not None:
            if stop.is_set():
                self._unsent.append(claim.id)
                continue
            outcome = await deliver_one(
                claim, self.composer, self.transport, self.settings, self.rng, self.clock
            )
            self.summary.add(outcome)
            if self.on_outcome is not None:
                self.on_outcome(outcome)
            await recorder.add(outcome)

    async def _write(self, outcomes: Sequence[Outcome]) -> None:
        limit = self.settings.delivery_hard_bounce_limit
        await self._db(lambda: record_outcomes(self.db, outcomes, bounce_limit=limit))

    async def _extend_leases(self) -> None:
        loop_now = asyncio.get_running_loop().time()
        if loop_now - self._last_extend >= self.settings.delivery_lease_seconds / 3:
            self._last_extend = loop_now
            await self._db(self.ledger.extend_leases, self.clock())


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
