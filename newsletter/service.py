"""The whole service for one machine, in one process.

One asyncio loop runs the web app (uvicorn), the scheduler (ingest, due editions), a sender
that works through the delivery ledger and, when ``NEWSLETTER_INBOUND_IMAP_URL`` is set, a poller
of the inbound mailbox (bounces, complaints, unsubscribes; ``newsletter.inbound``).
SIGTERM or Ctrl-C stops taking requests, lets in-flight
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
from datetime import datetime
from typing import Any

import uvicorn
from anyio import to_thread
from starlette.types import ASGIApp

from newsletter.clock import utc_now
from newsletter.config import Settings
from newsletter.delivery.sending.runs import work
from newsletter.inbound.imap import poll_forever
from newsletter.inbound.processor import Processor
from newsletter.scheduler.service import Jobs, build_scheduler
from newsletter.store.database import Database, is_sqlite
from newsletter.web import create_app

log = logging.getLogger("newsletter.serve")
SENDER_STOP_SECONDS = 30.0
# Connections beside the web threads': the sender's two ledger threads, the scheduler's jobs and
# the inbound poller.
JOB_CONNECTIONS = 6



def configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def database_for_service(settings: Settings) -> Database:
    """A pool that keeps a connection for every web thread plus the jobs (PostgreSQL; SQLite
    needs none); called on the event loop, whose thread limiter sizes the web threadpool.

    Kept, not only allowed: a connection past ``pool_size`` is closed when it is returned. With
    20 kept for 40 web threads, a busy sign-up form opened and closed a PostgreSQL connection
    (a new server process, a pre-ping) for every ninth post (bench_subscribe: ~700 sessions in
    a 20 s closed loop, pg_stat_database.sessions). Connections open only when first needed.
    """
    if is_sqlite(settings.database_url):
        return Database(settings.database_url)
    kept = int(to_thread.current_default_thread_limiter().total_tokens) + JOB_CONNECTIONS
    return Database(settings.database_url, pool_size=kept, max_overflow=10, pool_timeout=30)


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


def server_config(
    app: ASGIApp, settings: Settings, *, host: str, port: int, **options: Any
) -> uvicorn.Config:
    """How uvicorn serves the app, shared by ``serve`` and the tests.

    X-Forwarded-For is believed only from ``NEWSLETTER_TRUSTED_PROXIES``: uvicorn's own default
    trusts 127.0.0.1, so anything behind a local proxy that passes the header on could rotate it
    and dodge the per-client rate limit. With no trusted proxy the header is not read at all.
    """
    trusted = list(settings.trusted_proxies)
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        server_header=False,
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or [],
        timeout_graceful_shutdown=10,
        **options,
    )


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
    jobs = Jobs(settings, db, clock)
    scheduler = build_scheduler(jobs)
    app = create_app(
        settings, db, clock=clock, scheduler_running=lambda: scheduler.running,
        send_account_emails=False,
    )
    server = _Server(server_config(app, settings, host=host, port=port))
    stop = asyncio.Event()
    scheduler.start()
    # Off when `newsletter worker` processes on machines of their own do all the sending. On one
    # 2-core machine serve plus a worker measured slower than serve alone (bench_subscribe
    # --separate-sender), so the default keeps a sender here.
    sender = (
        asyncio.create_task(
            run_sender(settings, db, stop, clock, wake=app.state.web.mail_waiting), name="sender"
        )
        if settings.serve_sender
        else None
    )
    if sender is None:
        log.info("no sender in this process (NEWSLETTER_SERVE_SENDER=false): workers send")
    mailbox = settings.imap()
    inbound = (
        asyncio.create_task(poll_forever(
            mailbox, Processor(db, settings, clock),
            interval=settings.inbound_imap_interval_seconds, stop=stop,
        ), name="inbound mailbox poller")
        if mailbox is not None else None
    )
    try:
        if started is not None:
            asyncio.get_running_loop().call_soon(_when_up, server, started)
        await server.serve()
    finally:
        log.info("stopping: scheduler, sender")
        stop.set()
        jobs.stopping.set()
        if scheduler.running:
            scheduler.shutdown(wait=False)
        if sender is not None:
            await _finish(sender)
        if inbound is not None:
            await _finish(inbound)
        db.dispose()


def _when_up(server: uvicorn.Server, started: Callable[[], None]) -> None:
    async def wait() -> None:
        while not server.started:
            await asyncio.sleep(0.05)
        started()

    asyncio.get_running_loop().create_task(wait())


async def _finish(task: asyncio.Task[None]) -> None:
    """Wait for the sender (or the inbound poller) to finish what it is doing."""
    try:
        await asyncio.wait_for(task, SENDER_STOP_SECONDS)
    except TimeoutError:
        log.warning("%s did not stop within %.0f s; cancelled", task.get_name(),
                    SENDER_STOP_SECONDS)
    except Exception:
        log.exception("%s stopped with an error", task.get_name())


async def run_sender(
    settings: Settings, db: Database, stop: asyncio.Event, clock: Callable[[], datetime],
    wake: asyncio.Event | None = None,
) -> None:
    """The delivery ledger's sending loop (as ``newsletter worker`` runs it) until ``stop``;
    ``wake`` is set by the web app when it queued an account email."""
    summary = await work(db, settings, name="serve", stop=stop, clock=clock, rng=random.Random(),
                         wake=wake)
    log.info("sender stopped: %s", summary)
