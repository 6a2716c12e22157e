"""A build killed mid-way (SIGKILL, a real process) resumes: one row per subscriber in the end."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from newsletter.config import Settings, load_settings
from newsletter.delivery.editions.build import build_edition
from newsletter.preferences import TopicSpec
from newsletter.store.database import Database
from newsletter.store.models import Delivery, Edition, Frequency
from newsletter.store.subscribers import create_subscriber
from tests.delivery.helpers import add_papers, sample_papers

READERS = 600
CHUNK = 15


def _own_topics(count: int) -> list[TopicSpec]:
    """A topic of its own for each reader (two title words each), so every chunk is scored."""
    vocabulary = sorted({
        word.lower().strip(".,:;()")
        for title, _ in sample_papers(200)
        for word in title.split()
        if len(word) > 5 and word.isalpha()
    })
    size = len(vocabulary)
    return [
        TopicSpec.build(f"{vocabulary[n % size]} {vocabulary[(7 * n + 3) % size]}")
        for n in range(count)
    ]


def _rows(db: Database) -> tuple[int, int]:
    with db.session() as session:
        total = session.scalar(select(func.count()).select_from(Delivery)) or 0
        distinct = session.scalar(select(func.count(func.distinct(Delivery.subscriber_id)))) or 0
    return total, distinct


def _processes_of(var_dir: Path) -> set[int]:
    """Live processes started for this build: the build, its fork server and its workers all
    carry the build's environment, whose var folder is this test's own."""
    marker = f"NEWSLETTER_VAR_DIR={var_dir}".encode()
    found = set()
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker in (entry / "environ").read_bytes().split(b"\0"):
                status = (entry / "status").read_text()
                if "State:\tZ" not in status:
                    found.add(int(entry.name))
        except OSError:
            continue  # gone meanwhile, or not ours to read
    return found


def test_a_killed_build_resumes_with_exactly_one_row_per_subscriber(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    add_papers(db, [*sample_papers(80)], now=now)
    with db.session() as session:
        for n, topic in enumerate(_own_topics(READERS)):
            create_subscriber(session, f"reader{n}@example.org", [topic], now=now)
    env = {
        **os.environ,
        "NEWSLETTER_DATABASE_URL": db_url,
        "NEWSLETTER_VAR_DIR": str(tmp_path / "var"),
        "NEWSLETTER_EDITION_CHUNK_SIZE": str(CHUNK),
    }
    issue = now.date().isoformat()
    child = subprocess.Popen(
        [sys.executable, "-m", "newsletter", "edition", "build", "--date", issue],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 180
        while _rows(db)[0] == 0:
            assert child.poll() is None, "the build ended before any chunk was committed"
            assert time.monotonic() < deadline, "no chunk committed in 180 s"
            time.sleep(0.01)
        helpers = _processes_of(tmp_path / "var") - {child.pid}
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL
    assert helpers, "the build chose papers in worker processes"
    deadline = time.monotonic() + 30
    while _processes_of(tmp_path / "var"):
        assert time.monotonic() < deadline, "worker processes outlived the killed build"
        time.sleep(0.1)
    written, _ = _rows(db)
    assert 0 < written < READERS, "killed mid-way: some chunks committed, not all"
    assert written % CHUNK == 0, "only whole chunks are committed"
    with db.session() as session:
        stats = session.scalars(select(Edition.stats)).one()
    assert stats["due"] == written, "the stats were committed with their rows"

    settings: Settings = load_settings(var_dir=tmp_path / "var", secret_key="k" * 40,
                                       edition_chunk_size=CHUNK)
    again = build_edition(db, settings, frequency=Frequency.DAILY, issue_date=now.date(), now=now)
    assert again.due == READERS - written, "the rebuild adds only what is missing"
    assert _rows(db) == (READERS, READERS)
    assert again.totals["due"] == READERS
    once_more = build_edition(db, settings, frequency=Frequency.DAILY, issue_date=now.date(),
                              now=now)
    assert once_more.due == 0 and _rows(db) == (READERS, READERS)
