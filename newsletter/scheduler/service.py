"""The scheduler inside ``newsletter serve``: APScheduler 3's ``AsyncIOScheduler`` on the same
event loop as the web server, with the (synchronous, database-bound) jobs run in threads.

Both jobs run once at start and then on their interval. Each job has ``max_instances=1`` and
``coalesce``: a slow ingest never overlaps itself, and a process that slept through several runs
does one. Job errors are logged and the next run tries again; they never stop the process.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from newsletter.config import Settings
from newsletter.errors import NewsletterError
from newsletter.scheduler.jobs import run_editions, run_ingest
from newsletter.store.database import Database

log = logging.getLogger(__name__)
INGEST_JOB = "ingest"
EDITIONS_JOB = "editions"


class Stopping(NewsletterError):
    """Raised inside a job's backoff sleep when the service is shutting down.

    A NewsletterError, so a source interrupted this way is reported in one line like any
    other source that could not be read this time, not as a crash.
    """

    def __init__(self) -> None:
        super().__init__("the service is stopping")


class Jobs:
    """The two jobs bound to one database, settings and clock; also callable directly."""

    def __init__(
        self, settings: Settings, db: Database, clock: Callable[[], datetime]
    ) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self.stopping = threading.Event()

    def _sleep(self, seconds: float) -> None:
        """A source's backoff sleep that ends at once (by raising) when the service stops."""
        if self.stopping.wait(seconds):
            raise Stopping()

    async def ingest(self) -> None:
        try:
            await asyncio.to_thread(
                run_ingest, self.settings, self.db, self.clock(), sleep=self._sleep
            )
        except asyncio.CancelledError:
            # Shutdown cancels the job while its thread finishes on its own; nothing failed.
            log.info("ingest job interrupted by shutdown")
        except Exception:
            log.exception("ingest job failed; the next run will try again")

    async def editions(self) -> None:
        try:
            await asyncio.to_thread(run_editions, self.db, self.settings, self.clock())
        except asyncio.CancelledError:
            log.info("edition job interrupted by shutdown")
        except Exception:
            log.exception("edition job failed; the next run will try again")


def build_scheduler(jobs: Jobs) -> AsyncIOScheduler:
    """A scheduler with both jobs added; ``start()`` it inside the running event loop."""
    settings = jobs.settings
    scheduler = AsyncIOScheduler(timezone=UTC)
    first = datetime.now(UTC)
    common = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
    scheduler.add_job(
        jobs.ingest,
        "interval",
        minutes=settings.ingest_interval_minutes,
        id=INGEST_JOB,
        name="ingest papers",
        next_run_time=first,
        **common,
    )
    scheduler.add_job(
        jobs.editions,
        "interval",
        seconds=settings.edition_check_seconds,
        id=EDITIONS_JOB,
        name="build due editions",
        next_run_time=first,
        **common,
    )
    return scheduler
