"""Inbound mail throughput: DSNs delivered over LMTP to the processor, vs a bare LMTP server.

Both servers run in this process on loopback and receive the same 2,000 Postfix-format DSNs
(each to its own delivery's VERP address) over one LMTP connection with ``smtplib.LMTP``. The
anchor accepts and drops each message; the product reads it, ties it to its delivery and
commits the bounce (SQLite, and PostgreSQL too with NEWSLETTER_TEST_POSTGRES_URL). Prints
messages per second and the ratio to the anchor measured in the same run; asserts nothing.

    .venv/bin/python bench/bench_inbound.py [--messages 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import smtplib
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from aiosmtpd.lmtp import LMTP
from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from newsletter.config import load_settings
from newsletter.inbound.lmtp import LmtpServer
from newsletter.inbound.processor import Processor
from newsletter.inbound.verp import bounce_address
from newsletter.store import migrate
from newsletter.store.database import Database
from newsletter.store.models import Delivery, Edition, Subscriber
from newsletter.store.scratch import scratch_database
from tests.inbound.samples import sample
from tests.network import free_port

NOW = datetime(2024, 5, 1, 7, 0, tzinfo=UTC)
SENDER = "digest@newsletter.example.org"


class _Drop:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "\r\n".join("250 2.0.0 OK" for _ in envelope.rcpt_tos)


def _serve(factory: Any, port: int, ready: threading.Event, stop: threading.Event) -> None:
    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(factory, "127.0.0.1", port)
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.05)
        server.close()
        await server.wait_closed()

    asyncio.run(main())


def _seed(db: Database, count: int) -> list[int]:
    with db.session() as session:
        session.execute(insert(Subscriber), [
            {"email": f"reader{n}@example.org", "created_at": NOW, "token_nonce": "n",
             "origin": "cli", "status": "active", "hard_bounces": 0, "frequency": "daily",
             "send_hour": 7, "timezone": "UTC", "digest_size": 10, "always_send": False}
            for n in range(count)
        ])
        edition = Edition(frequency="daily", issue_date=date(2024, 5, 1), created_at=NOW)
        session.add(edition)
        session.flush()
        session.execute(insert(Delivery), [
            {"edition_id": edition.id, "subscriber_id": n + 1, "status": "sent",
             "paper_ids": [1], "reasons": {}, "attempts": 1, "created_at": NOW}
            for n in range(count)
        ])
    return list(range(1, count + 1))


def _send(port: int, messages: list[tuple[str, bytes]]) -> float:
    start = time.perf_counter()
    with smtplib.LMTP("127.0.0.1", port) as client:
        for recipient, raw in messages:
            client.sendmail("", [recipient], raw)
    return time.perf_counter() - start


def _run(factory: Any, messages: list[tuple[str, bytes]]) -> float:
    port, ready, stop = free_port(), threading.Event(), threading.Event()
    thread = threading.Thread(target=_serve, args=(factory, port, ready, stop), daemon=True)
    thread.start()
    ready.wait(10)
    try:
        return _send(port, messages)
    finally:
        stop.set()
        thread.join(10)


def measure(label: str, url: str, count: int) -> None:
    migrate.upgrade(url)
    db = Database(url)
    settings = load_settings(database_url=url, secret_key="b" * 40, sender_address=SENDER)
    ids = _seed(db, count)
    messages = [
        (bounce_address(settings, d),
         sample("postfix_unknown_user.eml", bounce_address=bounce_address(settings, d)))
        for d in ids
    ]
    anchor = _run(lambda: LMTP(_Drop()), messages)
    server = LmtpServer(Processor(db, settings), host="127.0.0.1", port=0)
    product = _run(server.protocol, messages)
    with db.engine.connect() as conn:
        bounced = conn.execute(text("SELECT count(*) FROM subscribers WHERE status='bounced'"))
        done = bounced.scalar()
    db.dispose()
    print(f"{label:10} anchor (LMTP, drop)        {count / anchor:8.0f} msg/s")
    print(f"{label:10} processor (LMTP, commit)   {count / product:8.0f} msg/s  "
          f"{product / anchor:5.1f}x the anchor's time; {done}/{count} marked bounced")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    count = parser.parse_args().messages
    with tempfile.TemporaryDirectory() as folder:
        measure("sqlite", f"sqlite:///{folder}/bench.db", count)
    admin_url = os.environ.get("NEWSLETTER_TEST_POSTGRES_URL")
    if admin_url:
        with tempfile.TemporaryDirectory() as folder, scratch_database(
            admin_url, Path(folder), "bench_inbound", migrated=False
        ) as url:
            measure("postgresql", url, count)


if __name__ == "__main__":
    main()
