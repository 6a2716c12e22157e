"""``make run``: the product on a fresh, offline machine, in development mode.

Migrates the database (SQLite under ``./var/`` unless configured otherwise), fetches papers
from the configured sources with a short timeout and falls back to the bundled sample when
nothing new arrives (no network, or nothing published), then serves on http://127.0.0.1:8000
with the development mailbox: every email the service sends is readable at ``/dev/mailbox``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
import time
from datetime import UTC, datetime

from newsletter.config import Settings, get_settings
from newsletter.service import configure_logging, run_service
from newsletter.sources.runner import ingest_configured, ingest_sample
from newsletter.store import migrate
from newsletter.store.database import Database

log = logging.getLogger("newsletter.devrun")
QUICK_TIMEOUT = 5.0


def seed_papers(settings: Settings, now: datetime) -> str:
    """Try the real sources briefly; load the bundled sample when they bring nothing new."""
    quick = settings.model_copy(update={"http_timeout": min(settings.http_timeout, QUICK_TIMEOUT)})
    db = Database(settings.database_url)
    try:
        report = ingest_configured(quick, db, now=now, sleep=lambda s: time.sleep(min(s, 1.0)))
        if report.new:
            return f"fetched {report.new} new papers from {', '.join(settings.ingest_sources)}"
        sample = ingest_sample(db, now=now)
        return f"no source answered with new papers; sample papers: {sample.summary()}"
    finally:
        db.dispose()


def port_taken(host: str, port: int) -> bool:
    """Whether something already listens there (most often an earlier ``make run``).

    Asked before migrating and fetching, so a second ``make run`` says so at once instead of
    after ten seconds of work, in one line among a page of logs.
    """
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    if port_taken(args.host, args.port):
        raise SystemExit(
            f"{args.host}:{args.port} is already in use, most likely by another `make run`: "
            f"stop it (Ctrl-C), or serve on another port with `make run PORT={args.port + 1}`."
        )
    os.environ["NEWSLETTER_ENVIRONMENT"] = "development"
    os.environ.setdefault("NEWSLETTER_BASE_URL", f"http://{args.host}:{args.port}")
    get_settings.cache_clear()
    configure_logging()
    settings = get_settings()
    migrate.upgrade(settings.database_url)
    log.info("%s", seed_papers(settings, datetime.now(UTC)))
    log.info(
        "open %s to subscribe; emails land in %s/dev/mailbox", settings.base_url, settings.base_url
    )
    asyncio.run(run_service(settings, host=args.host, port=args.port))


if __name__ == "__main__":
    main()
