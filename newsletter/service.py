"""The whole service for one machine, in one process.

One asyncio loop runs the web app (uvicorn), the scheduler (ingest, due editions) and a sender
that works through the delivery ledger. SIGTERM or Ctrl-C stops taking requests, lets in-flight
ones finish, stops the scheduler and the sender (a message already handed to the relay is
finished), and returns. Extra machines run ``newsletter worker`` (sender only) against the same
database. ``newsletter serve`` and ``make run`` start it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import uvicorn

from newsletter.config import Settings
from newsletter.delivery.sending.runs import work
from newsletter.delivery.sending.transport import make_transport
from newsletter.scheduler.service import Jobs, build_scheduler
from newsletter.store.database import Database, is_sqlite
from newsletter.web import create_app

log = logging.getLogger("newsletter.serve")
SENDER_STOP_SECONDS = 30.0


def utc_now() -> datetime:
    return datetime.now(UTC)


def configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def database_for_service(settings: Settings) -> Database:
    """A pool big enough for the web threadpool plus the jobs (PostgreSQL; SQLite needs none)."""
    if is_sqlite(settings.database_url):
        return Database(settings.database_url)
    return Database(settings.database_url, pool_size=20, max_overflow=20, pool_timeout=30)


class _Server(uvicorn.Server):
    """uvicorn, minus re-raising the signal after shutdown (which would kill us before our own
    cleanup ran and turn a clean stop into exit status 143)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        loop = asyncio.get_running_loop()
        handled = (signal.SIGINT, signal.SIGTERM)
        for sig in handled:
            loop.add_signal_handler(sig, self.handle_exit, sig, None)
        try:
            yield
        finally:
            for sig in handled:
                loop.remove_signal_handler(sig)


async def run_service(
    settings: Settings,
    *,
    host: str,
    port: int,
    clock: Callable[[], datetime] = utc_now,
    started: Callable[[], None] | None = None,
) -> None:
    """Serve until SIGTERM/SIGINT; ``started`` is called once everything is up (tests)."""
    db = database_for_service(settings)
    transport = make_transport(settings)
    jobs = Jobs(settings, db, clock)
    scheduler = build_scheduler(jobs)
    app = create_app(
        settings, db, transport=transport, clock=clock, scheduler_running=lambda: scheduler.running
    )
    server = _Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,
            server_header=False,
            proxy_headers=True,
            timeout_graceful_shutdown=10,
        )
    )
    stop = asyncio.Event()
    scheduler.start()
    sender = asyncio.create_task(run_sender(settings, db, stop, clock))
    try:
        if started is not None:
            asyncio.get_running_loop().call_soon(_when_up, server, started)
        await server.serve()
    finally:
        log.info("stopping: scheduler, sender, mail transport")
        stop.set()
        jobs.stopping.set()
        if scheduler.running:
            scheduler.shutdown(wait=False)
        await _finish(sender)
        await transport.close()
        db.dispose()


def _when_up(server: uvicorn.Server, started: Callable[[], None]) -> None:
    async def wait() -> None:
        while not server.started:
            await asyncio.sleep(0.05)
        started()

    asyncio.get_running_loop().create_task(wait())


async def _finish(sender: asyncio.Task[None]) -> None:
    try:
        await asyncio.wait_for(sender, SENDER_STOP_SECONDS)
    except TimeoutError:
        log.warning("sender did not stop within %.0f s; cancelled", SENDER_STOP_SECONDS)
    except Exception:
        log.exception("sender stopped with an error")


async def run_sender(
    settings: Settings, db: Database, stop: asyncio.Event, clock: Callable[[], datetime]
) -> None:
    """The delivery ledger's sending loop (as ``newsletter worker`` runs it) until ``stop``."""
    summary = await work(db, settings, name="serve", stop=stop, clock=clock, rng=random.Random())
    log.info("sender stopped: %s", summary)
