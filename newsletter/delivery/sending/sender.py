"""The sending loop: claim from the ledger, compose, send through the pool, record outcomes.

Three workers share the job so that the event loop only speaks SMTP: the ledger's statements
run on threads of their own (psycopg and sqlite3 release the GIL while they wait), one for
claims and one for outcomes, each on its own connection, so a batch of outcomes never waits
behind a claim of 500 rows (it did, and the SMTP tasks then waited for the recorder), and
digests are composed and DKIM-signed in a child process (:mod:`.preparing`) a chunk ahead of
the sends, on another core. One sender is still one event loop; ``newsletter worker
--processes N`` runs several (:mod:`.supervisor`).

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
* One address's failure never stops the batch: every error becomes that row's outcome. A
  configuration error (``failures.stops_sender``) stops the sender instead: its claims are
  released untouched and :meth:`Sender.run` raises it.
* Account emails (the outbox, :mod:`newsletter.delivery.ledger.outbox`) are claimed before
  digests on every round, so a confirmation never waits behind an edition's backlog. They are
  few and small, so they are composed (and signed) in this process.
* Composing ahead changes none of this: a message composed but not yet handed to the server
  was not sent, and its row is released (graceful stop) or reclaimed (kill) like any other.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from newsletter.clock import utc_now
from newsletter.config import Settings
from newsletter.delivery.failures import stops_sender
from newsletter.delivery.ledger.claims import Claimed, Ledger
from newsletter.delivery.ledger.outbox import AccountClaim, claim_account_emails
from newsletter.delivery.ledger.outcomes import Outcome, OutcomeWriter
from newsletter.delivery.ledger.recorder import Recorder
from newsletter.delivery.messages.signing import SigningTransport
from newsletter.delivery.sending.deliver import deliver_one
from newsletter.delivery.sending.preparing import Prepared, Preparer, default_composers
from newsletter.delivery.sending.transactional import deliver_account_email
from newsletter.delivery.sending.transport import Transport
from newsletter.store.database import Database
from newsletter.store.models import DeliveryStatus

log = logging.getLogger(__name__)
T = TypeVar("T")
Job = tuple[Claimed, Prepared] | AccountClaim
CATCH_UP_PAUSE = 0.2  # seconds; bounds how late a confirmation email can be for it



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
        composers: int | None = None,
    ) -> None:
        self.db, self.settings, self.transport = db, settings, transport
        self.rng, self.clock, self.on_outcome = rng, clock, on_outcome
        self.ledger = Ledger(db, owner=owner, lease_seconds=settings.delivery_lease_seconds)
        # Account emails are composed here and signed by the transport as given; digests are
        # signed where they are composed, so they go out through the bare transport.
        self.account_transport = transport
        if isinstance(transport, SigningTransport):
            self.transport = transport.inner
        self.composers = default_composers(settings) if composers is None else composers
        self.renders = 0
        self.summary = Summary()
        self._db_thread = ThreadPoolExecutor(1, thread_name_prefix="ledger")
        self._write_thread = ThreadPoolExecutor(1, thread_name_prefix="ledger-outcomes")
        self._writer = OutcomeWriter(db, bounce_limit=settings.delivery_hard_bounce_limit)
        self._unsent: list[int] = []
        self._queued = 0
        self._last_extend = 0.0
        self._fatal: BaseException | None = None
        self._preparer: Preparer | None = None
        self._digests = True

    async def _db(self, function: Callable[..., T], *args: Any) -> T:
        """Claims and releases run on a thread of their own, so the event loop keeps sending."""
        return await asyncio.get_running_loop().run_in_executor(self._db_thread, function, *args)

    async def _db_write(self, function: Callable[..., T], *args: Any) -> T:
        """Outcomes (and lease extensions) run on another thread, beside the claims."""
        return await asyncio.get_running_loop().run_in_executor(
            self._write_thread, function, *args
        )

    async def run(
        self,
        *,
        edition_id: int | None = None,
        stop: asyncio.Event | None = None,
        until_idle: bool = True,
        poll_seconds: float = 5.0,
        wake: asyncio.Event | None = None,
        digests: bool = True,
    ) -> Summary:
        """Send until nothing is due (``until_idle``) or until ``stop`` is set.

        ``wake`` cuts an idle wait short (the web app sets it when it queued an account
        email); ``digests=False`` sends account emails only.
        """
        stop = stop or asyncio.Event()
        self._digests = digests
        queue: asyncio.Queue[Job | None] = asyncio.Queue(self.settings.delivery_batch_size)
        recorder = Recorder(self._write, tick=self._extend_leases)
        flusher = asyncio.create_task(recorder.run())
        workers = [
            asyncio.create_task(self._work(queue, recorder, stop))
            for _ in range(self.settings.smtp_pool_size)
        ]
        try:
            await self._produce(queue, stop, edition_id, until_idle, poll_seconds, wake)
        finally:
            for _ in workers:
                await queue.put(None)
            await asyncio.gather(*workers, return_exceptions=True)
            recorder.close()
            await flusher
            await self._db(self.ledger.release, self._unsent)
            self._db_thread.shutdown(wait=True)
            self._write_thread.submit(self._writer.close)
            self._write_thread.shutdown(wait=True)
            if self._preparer is not None:
                self._preparer.close()
        if self._fatal is not None:
            raise self._fatal
        return self.summary

    async def _produce(
        self, queue: asyncio.Queue[Job | None], stop: asyncio.Event,
        edition_id: int | None, until_idle: bool, poll_seconds: float,
        wake: asyncio.Event | None = None,
    ) -> None:
        """Claim a batch: account emails go straight to the SMTP tasks; digests are composed a
        chunk at a time (the next chunk is composed while this one is being sent)."""
        while not stop.is_set():
            accounts, claims = await self._db(self._claim, self.clock(), edition_id)
            if not accounts and not claims:
                if until_idle:
                    return
                await _wait(stop, poll_seconds, wake)
                continue
            for index, account in enumerate(accounts):
                if stop.is_set():
                    self._unsent.extend(a.id for a in accounts[index:])
                    self._unsent.extend(c.id for c in claims)
                    return
                await queue.put(account)
            self._queued = 0
            try:
                finished = not claims or await self._queue_batch(
                    claims, queue, self._composing(), stop
                )
            finally:  # stopped, or the composing process failed: hand back what is left
                self._unsent.extend(c.id for c in claims[self._queued :])
            if not finished:
                return
            caught_up = len(accounts) + len(claims) < self.settings.delivery_batch_size
            if not until_idle and caught_up:
                # A short batch means we are caught up: gather a little before claiming again,
                # or a stream of sign-ups (each waking us) turns into a claim per email.
                await _wait(stop, CATCH_UP_PAUSE)

    async def _queue_batch(
        self, claims: list[Claimed], queue: asyncio.Queue[Job | None], preparer: Preparer,
        stop: asyncio.Event,
    ) -> bool:
        """Queue the batch's messages in the preparer's order (``claims`` is put in that
        order, so what follows ``self._queued``, the count that went in, is what is left), up
        to ``preparer.width`` chunks being composed at once; False when stopped part-way."""
        plan = preparer.plan(claims)
        claims[:] = [claim for _, chunk in plan for claim in chunk]
        ahead: deque[asyncio.Task[Prepared]] = deque()
        self._queued = 0
        try:
            for index, (_, chunk) in enumerate(plan):
                while len(ahead) < preparer.width and index + len(ahead) < len(plan):
                    child, following = plan[index + len(ahead)]
                    ahead.append(asyncio.ensure_future(
                        preparer.prepare(following, self.clock(), child)))
                prepared = await ahead.popleft()
                self.renders = preparer.renders
                for claim in chunk:
                    if stop.is_set():
                        return False
                    await queue.put((claim, prepared))
                    self._queued += 1
            return True
        finally:
            for task in ahead:
                task.cancel()

    def _composing(self) -> Preparer:
        """The composing processes, started with the first digest: a sender that only ever
        sends account emails (the web app's own) starts none."""
        if self._preparer is None:
            self._preparer = Preparer(self.settings, self.db.url, children=self.composers)
        return self._preparer

    def _claim(
        self, now: datetime, edition_id: int | None
    ) -> tuple[list[AccountClaim], list[Claimed]]:
        """Runs on the database thread: reclaim the dead's rows, claim account emails first,
        then digests."""
        self.ledger.reclaim_expired(now)
        limit = self.settings.delivery_batch_size
        accounts: list[AccountClaim] = []
        if edition_id is None:
            accounts, suppressed = claim_account_emails(
                self.db, owner=self.ledger.owner, lease_seconds=self.ledger.lease.total_seconds(),
                now=now, limit=limit,
            )
            self.summary.suppressed += suppressed
        if not self._digests or len(accounts) >= limit:
            return accounts, []
        claims, suppressed = self.ledger.claim(now, limit - len(accounts), edition_id)
        self.summary.suppressed += suppressed
        return accounts, claims

    async def _work(
        self, queue: asyncio.Queue[Job | None], recorder: Recorder, stop: asyncio.Event
    ) -> None:
        while (job := await queue.get()) is not None:
            claim = job if isinstance(job, AccountClaim) else job[0]
            if stop.is_set():
                self._unsent.append(claim.id)
                continue
            try:
                if isinstance(job, AccountClaim):
                    outcome = await deliver_account_email(
                        job, self.account_transport, self.settings, self.rng, self.clock
                    )
                else:
                    outcome = await deliver_one(
                        job[0], job[1], self.transport, self.settings, self.rng, self.clock
                    )
            except Exception as exc:
                if not stops_sender(exc):
                    raise
                log.error("sender stopped, fix the setting and start it again: %s", exc)
                self._fatal = self._fatal or exc
                self._unsent.append(claim.id)
                stop.set()
                continue
            self.summary.add(outcome)
            if self.on_outcome is not None:
                self.on_outcome(outcome)
            await recorder.add(outcome)

    async def _write(self, outcomes: Sequence[Outcome]) -> None:
        await self._db_write(self._writer.write, outcomes)

    async def _extend_leases(self) -> None:
        loop_now = asyncio.get_running_loop().time()
        if loop_now - self._last_extend >= self.settings.delivery_lease_seconds / 3:
            self._last_extend = loop_now
            await self._db_write(self.ledger.extend_leases, self.clock())


async def _wait(stop: asyncio.Event, seconds: float, wake: asyncio.Event | None = None) -> None:
    """Sleep ``seconds``, or less when ``stop`` or ``wake`` is set (``wake`` is then cleared)."""
    events = [stop] if wake is None else [stop, wake]
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
    if wake is not None:
        wake.clear()
