"""Killing ``newsletter worker`` mid-edition loses nothing and duplicates a bounded few.

Two real worker processes share one edition of 300 deliveries on the test database (both
backends), rate-limited so that the first is mid-way when it is SIGKILLed: its unrecorded sends
and its leased rows are left behind. The second, with a short lease, takes the pending rows at
once, reclaims the dead one's rows when their lease expires, finishes the edition, and exits
cleanly on SIGTERM. (A graceful stop mid-way is tested in-process in ``test_sender.py``.)

The bound: after a SIGKILL only messages accepted by the server but not yet recorded can go
out again: at most ``smtp_pool_size`` in flight plus ``recorder.MAX_UNRECORDED``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from newsletter.config import Settings
from newsletter.delivery.editions.build import build_edition
from newsletter.delivery.ledger.recorder import MAX_UNRECORDED
from newsletter.store.database import Database
from newsletter.store.models import Delivery, DeliveryStatus, Frequency
from tests.delivery.helpers import NOW, add_many, add_papers
from tests.smtp_server import SmtpServer

COUNT = 300
POOL = 4
NEWSLETTER = Path(sys.executable).with_name("newsletter")


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def count(db: Database, *where: object) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Delivery).where(*where)) or 0)


@pytest.mark.slow
def test_sigkill_loses_nothing_and_duplicates_at_most_in_flight(
    db: Database, db_url: str, smtp_server: SmtpServer, make_settings: Callable[..., Settings],
    tmp_path: Path,
) -> None:
    add_papers(db)
    add_many(db, COUNT)
    build_edition(db, make_settings(), frequency=Frequency.DAILY, issue_date=date(2024, 5, 1),
                  now=NOW)
    env = {
        **os.environ, "NEWSLETTER_DATABASE_URL": db_url, "NEWSLETTER_SMTP_URL": smtp_server.url,
        "NEWSLETTER_SMTP_RATE_LIMIT": "150", "NEWSLETTER_SMTP_POOL_SIZE": str(POOL),
        "NEWSLETTER_DELIVERY_LEASE_SECONDS": "5", "NEWSLETTER_DELIVERY_POLL_SECONDS": "0.2",
        "NEWSLETTER_DELIVERY_BATCH_SIZE": "50", "NEWSLETTER_SECRET_KEY": "k" * 40,
        "NEWSLETTER_VAR_DIR": str(tmp_path / "var"),
    }

    def start(name: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen([str(NEWSLETTER), "worker", "--id", name], env=env,
                                cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    first = start("first")
    wait_for(lambda: len(smtp_server.received) >= 80, 30, "the first worker to get going")
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    at_kill = len(smtp_server.received)
    assert at_kill < COUNT

    second = start("second")
    try:
        wait_for(lambda: count(db, Delivery.status == DeliveryStatus.SENT) == COUNT, 60,
                 "every delivery to be sent")
    finally:
        second.send_signal(signal.SIGTERM)
        output = second.communicate(timeout=30)[0].decode()
    assert second.returncode == 0, output
    assert "worker stopped" in output

    received = Counter(r.rcpt_tos[0] for r in smtp_server.received)
    assert set(received) == {f"reader{n}@example.org" for n in range(COUNT)}
    duplicates = sum(received.values()) - COUNT
    assert duplicates <= POOL + MAX_UNRECORDED, duplicates
    assert count(db, Delivery.status != DeliveryStatus.SENT) == 0
