"""Sending throughput: `newsletter send` against a raw aiosmtplib blast of the same bytes.

Run from the repository root::

    .venv/bin/python bench/bench_delivery.py            # 4,000 digests, SQLite (+ PostgreSQL)
    .venv/bin/python bench/bench_delivery.py --full     # 20,000 digests, the issue's figure

The SMTP server is Postfix's ``smtp-sink`` (written in C, it accepts and forgets each message),
started by this script on a free port, so the server is never what is measured. It is in the
Debian package ``postfix`` (``apt-get install -y --no-install-recommends postfix``); by hand:
``smtp-sink -u postfix -c 127.0.0.1:PORT 1000``.

For each database (SQLite always, PostgreSQL when ``NEWSLETTER_TEST_POSTGRES_URL`` is set) one
edition of personal digests is built (timed apart: building is not sending), then:

* **raw**: the edition's messages, composed by the same code beforehand, sent with bare
  aiosmtplib ``sendmail`` over the same number of connections, right before and right after
  each measured run; the mean of that pair is the run's anchor (the machine is shared, so a
  figure is only compared with raw sends made around it).
* **send, unsigned**: what ``newsletter send`` does (claim, compose with per-recipient links,
  send over the pool, record outcomes), from all rows pending to all recorded.
* **send, signed**: the same with an RSA-2048 DKIM key generated for the run; its ratio to
  the unsigned run is taken between the two runs' ratios to their own anchors.
* **workers** (PostgreSQL only): ``newsletter worker --processes N`` for N = 1, 2, 4, with the
  same total number of connections split between the processes. The processes are started
  first and left idle; the clock runs from the moment the rows become due until the last
  outcome is recorded, so process start-up is not counted.

Every figure is printed with its ratio to the anchor of the same run; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiosmtplib  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402
from sqlalchemy import func, insert, select, update  # noqa: E402

from newsletter.config import Settings, load_settings  # noqa: E402
from newsletter.delivery.editions.build import build_edition  # noqa: E402
from newsletter.delivery.ledger.claims import Ledger  # noqa: E402
from newsletter.delivery.messages.compose import Composer  # noqa: E402
from newsletter.delivery.sending import runs  # noqa: E402
from newsletter.store import migrate  # noqa: E402
from newsletter.store.database import Database  # noqa: E402
from newsletter.store.models import (  # noqa: E402
    Delivery,
    DeliveryStatus,
    Frequency,
    Paper,
    Subscriber,
    Topic,
)
from newsletter.store.scratch import scratch_database  # noqa: E402

SHARED_PAPERS = Path("/work/shared/data/papers.json")
SAMPLE_PAPERS = ROOT / "newsletter" / "sources" / "sample" / "papers.json"
NEWSLETTER = Path(sys.executable).with_name("newsletter")
TOPICS = [
    "large language models", "diffusion models", "reinforcement learning", "speech recognition",
    "vision language models", "retrieval augmented generation", "code generation", "robotics",
    "safety alignment", "quantization", "mixture of experts", "instruction tuning",
    "text-to-image generation", "video generation", "3d reconstruction", "mathematical reasoning",
    "autonomous agents", "machine translation", "efficient inference", "long context",
    "knowledge distillation", "medical imaging", "time series", "question answering",
    "image segmentation", "graph neural networks", "federated learning", "hallucination",
    "tokenization", "benchmark evaluation",
]
NOW = datetime.now(UTC).replace(microsecond=0)
Message = tuple[str, str, bytes]


# --- the C sink ---------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def smtp_sink() -> Iterator[int]:
    """Postfix's smtp-sink on a free port; exits with instructions when it is not installed."""
    binary = shutil.which("smtp-sink") or ("/usr/sbin/smtp-sink"
                                           if Path("/usr/sbin/smtp-sink").exists() else None)
    if binary is None:
        sys.exit("smtp-sink not found: it is in the Debian package postfix "
                 "(apt-get install -y --no-install-recommends postfix)")
    port = free_port()
    command = [binary, "-c", f"127.0.0.1:{port}", "1000"]
    if os.geteuid() == 0:
        command[1:1] = ["-u", "postfix"]
    sink = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        else:
            sys.exit(f"smtp-sink did not start: {' '.join(command)}")
        yield port
    finally:
        sink.terminate()
        sink.wait(5)


# --- data ---------------------------------------------------------------------------------------
def load_papers(db: Database) -> int:
    path = SHARED_PAPERS if SHARED_PAPERS.exists() else SAMPLE_PAPERS
    items = json.loads(path.read_text(encoding="utf-8"))
    rng = random.Random(3)
    with db.session() as session:
        session.add_all(
            Paper(
                source_id=f"bench-{n}", arxiv_id=f"2406.{n:05d}", title=item["title"],
                abstract=item["abstract"], authors=[f"Author {k}" for k in range(item.get(
                    "authors_count", 3) or 3)], url=f"https://arxiv.org/abs/2406.{n:05d}",
                github_url=f"https://github.com/bench/p{n}" if n % 3 == 0 else None,
                upvotes=rng.randint(0, 120), first_seen_at=NOW, updated_at=NOW,
                categories=[], ai_keywords=[], sources=["bench"],
            )
            for n, item in enumerate(items)
        )
    return len(items)


def add_subscribers(db: Database, count: int) -> None:
    """Topic popularity is skewed (a few topics are very common), as in real lists."""
    rng = random.Random(5)
    weights = [1.0 / (rank + 1) for rank in range(len(TOPICS))]
    subscribers, topics = [], []
    for n in range(count):
        k = rng.choices([1, 2, 3], weights=[6, 3, 1])[0]
        chosen = sorted(set(rng.choices(TOPICS, weights=weights, k=k)))
        subscribers.append({
            "id": n + 1, "email": f"reader{n}@bench.example.org", "status": "active",
            "frequency": "daily", "send_hour": 7, "timezone": "UTC", "digest_size": 10,
            "always_send": False, "hard_bounces": 0, "token_nonce": f"{n:016x}",
            "origin": "bench", "created_at": NOW,
        })
        topics += [{"subscriber_id": n + 1, "position": p, "label": label, "keywords": [],
                    "authors": [], "excluded": []} for p, label in enumerate(chosen)]
    with db.engine.begin() as connection:
        connection.execute(insert(Subscriber.__table__), subscribers)
        connection.execute(insert(Topic.__table__), topics)


def prebuilt(db: Database, settings: Settings) -> list[Message]:
    """The edition's messages composed by the pipeline's code, not sent: the raw run's bytes."""
    ledger = Ledger(db, owner="prebuild", lease_seconds=60)
    composer = Composer(settings)
    claims = ledger.peek(datetime.now(UTC), 10_000_000)
    composer.add_papers(ledger.papers(composer.missing_papers(claims)))
    messages = []
    for claim in claims:
        sender, recipient, _, data = composer.compose(claim, NOW)
        messages.append((sender, recipient, data))
    return messages


def sendable(db: Database) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).where(
            Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SENT]))) or 0)


def reset(db: Database, due: datetime) -> None:
    """Every sent row back to pending, due at ``due``: the next run sends the same edition."""
    with db.session() as session:
        session.execute(update(Delivery).where(Delivery.status.in_(
            [DeliveryStatus.SENT, DeliveryStatus.PENDING, DeliveryStatus.SENDING])).values(
            status=DeliveryStatus.PENDING, next_attempt_at=due, attempts=0, sent_at=None,
            message_id=None, lease_owner=None, lease_expires_at=None))


def count_sent(db: Database) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).where(
            Delivery.status == DeliveryStatus.SENT)) or 0)


# --- the runs -----------------------------------------------------------------------------------
async def raw(port: int, connections: int, messages: list[Message]) -> float:
    queue: asyncio.Queue[Message] = asyncio.Queue()
    for item in messages:
        queue.put_nowait(item)

    async def one() -> None:
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
        await smtp.connect()
        while not queue.empty():
            sender, recipient, data = queue.get_nowait()
            await smtp.sendmail(sender, [recipient], data)
        await smtp.quit()

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(connections)))
    return time.perf_counter() - started


def send(db: Database, settings: Settings) -> tuple[float, runs.Summary]:
    """``newsletter send``: every due row once, in this process."""
    started = time.perf_counter()
    summary = asyncio.run(runs.send_now(db, settings, clock=lambda: datetime.now(UTC),
                                        rng=random.Random(1)))
    return time.perf_counter() - started, summary


def workers(db: Database, env: dict[str, str], processes: int, total: int, folder: str) -> float:
    """``newsletter worker --processes N``, started idle; seconds from due to all recorded."""
    reset(db, datetime.now(UTC) + timedelta(days=1))
    supervisor = subprocess.Popen(
        [str(NEWSLETTER), "worker", "--processes", str(processes), "--id", "bench"],
        env=env, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        time.sleep(4 + 2 * processes)  # imports, composing processes, first (empty) claims
        if supervisor.poll() is not None:
            raise RuntimeError(supervisor.communicate()[0].decode())
        started = time.perf_counter()
        with db.session() as session:
            session.execute(update(Delivery).where(Delivery.status == DeliveryStatus.PENDING)
                            .values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1)))
        while count_sent(db) < total:
            if supervisor.poll() is not None:
                raise RuntimeError(supervisor.communicate()[0].decode())
            time.sleep(0.02)
        return time.perf_counter() - started
    finally:
        supervisor.send_signal(signal.SIGTERM)
        supervisor.communicate(timeout=60)


def dkim_key(folder: Path) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = folder / "dkim.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return path


def database(kind: str, folder: Path) -> AbstractContextManager[str]:
    """A scratch database of that kind, not yet migrated (``measure`` migrates it)."""
    admin_url = os.environ["NEWSLETTER_TEST_POSTGRES_URL"] if kind == "postgresql" else None
    return scratch_database(admin_url, folder, "newsletter_bench_delivery", migrated=False)


def measure(kind: str, args: argparse.Namespace, port: int) -> None:
    with tempfile.TemporaryDirectory() as scratch, database(kind, Path(scratch)) as url:
        folder = Path(scratch)
        migrate.upgrade(url)
        db = Database(url)
        load_papers(db)
        add_subscribers(db, args.subscribers)
        base: dict[str, Any] = {
            "database_url": url, "secret_key": "b" * 40, "var_dir": folder,
            "smtp_url": f"smtp://127.0.0.1:{port}?tls=none", "smtp_pool_size": args.connections,
            "smtp_messages_per_connection": 1_000_000, "delivery_batch_size": 500,
            "sender_address": "digest@bench.example.org", "base_url": "https://bench.example.org",
        }
        settings = load_settings(**base)
        started = time.perf_counter()
        build_edition(db, settings, frequency=Frequency.DAILY, issue_date=date.today(), now=NOW)
        built = time.perf_counter() - started
        total = sendable(db)
        messages = prebuilt(db, settings)
        size = sum(len(m[2]) for m in messages) / max(len(messages), 1)
        print(f"\n[{kind}] {total} digests (mean {size / 1024:.1f} kB), {args.connections} "
              f"connections; edition built in {built:.1f} s (not counted below)")

        def anchored(run: Callable[[], float]) -> tuple[float, float]:
            """(msg/s of ``run``, msg/s of raw sends just before and after it)."""
            before = asyncio.run(raw(port, args.connections, messages))
            seconds = run()
            after = asyncio.run(raw(port, args.connections, messages))
            return total / seconds, total / ((before + after) / 2)

        def send_all(settings: Settings) -> float:
            reset(db, datetime.now(UTC) - timedelta(seconds=1))
            seconds, summary = send(db, settings)
            assert summary.sent == total, summary
            return seconds

        signed_settings = load_settings(**base, dkim_private_key_path=dkim_key(folder),
                                        dkim_selector="bench")
        unsigned, anchor_u = anchored(lambda: send_all(settings))
        signed, anchor_s = anchored(lambda: send_all(signed_settings))
        print(f"  newsletter send, unsigned:      {unsigned:7,.0f} msg/s = "
              f"{unsigned / anchor_u:4.0%} of raw at {anchor_u:,.0f} msg/s (goal >= 90%)")
        print(f"  newsletter send, DKIM RSA-2048: {signed:7,.0f} msg/s = "
              f"{signed / anchor_s:4.0%} of raw at {anchor_s:,.0f} msg/s; "
              f"{(signed / anchor_s) / (unsigned / anchor_u):.0%} of unsigned, both against "
              f"their raw (goal >= 90%); {signed / unsigned:.0%} as measured")
        if kind == "postgresql":
            env = {**os.environ, "NEWSLETTER_DATABASE_URL": url,
                   "NEWSLETTER_SMTP_URL": base["smtp_url"], "NEWSLETTER_SECRET_KEY": "b" * 40,
                   "NEWSLETTER_SMTP_MESSAGES_PER_CONNECTION": "1000000",
                   "NEWSLETTER_DELIVERY_BATCH_SIZE": "500",
                   "NEWSLETTER_DELIVERY_POLL_SECONDS": "0.05",
                   "NEWSLETTER_SENDER_ADDRESS": base["sender_address"],
                   "NEWSLETTER_BASE_URL": base["base_url"], "NEWSLETTER_VAR_DIR": str(folder)}
            for processes in args.processes:
                env["NEWSLETTER_SMTP_POOL_SIZE"] = str(max(args.connections // processes, 1))
                rate, anchor = anchored(partial(workers, db, env, processes, total, scratch))
                print(f"  newsletter worker --processes {processes}: {rate:7,.0f} msg/s = "
                      f"{rate / anchor:4.0%} of raw at {anchor:,.0f} msg/s "
                      f"({env['NEWSLETTER_SMTP_POOL_SIZE']} connections each)")
        db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=4_000)
    parser.add_argument("--full", action="store_true", help="20,000 digests (the issue's run)")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--processes", type=int, nargs="*", default=[1, 2, 4])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    if args.full:
        args.subscribers = 20_000
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    if "postgresql" in kinds and not os.environ.get("NEWSLETTER_TEST_POSTGRES_URL"):
        print("postgresql skipped: set NEWSLETTER_TEST_POSTGRES_URL")
        kinds.remove("postgresql")
    with smtp_sink() as port:
        for kind in kinds:
            measure(kind, args, port)


if __name__ == "__main__":
    main()
