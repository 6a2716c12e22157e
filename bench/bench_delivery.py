"""Delivery throughput: the whole pipeline against a raw aiosmtplib send of the same messages.

Run from the repository root: ``python bench/bench_delivery.py [--subscribers 20000]``.

One edition of personal digests for N subscribers (SQLite, papers from
``/work/shared/data/papers.json`` or the bundled sample) is built and sent through the real
code (select with matching, render, build, send over the SMTP pool, record in the ledger),
then the very same message bytes are sent again with bare aiosmtplib over the same number of
connections, once before the pipeline (messages built by the same code, not sent) and once
after (the exact bytes the pipeline sent); the mean of the two is the reference, which evens
out drift in machine load. The SMTP server is aiosmtpd in a separate process with a handler
that accepts and drops each message, so neither run shares an event loop with it. Pass:
pipeline >= 80% of the raw rate.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import random
import socket
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiosmtplib  # noqa: E402
from sqlalchemy import delete, insert  # noqa: E402

import newsletter.matching  # noqa: E402, F401  (scikit-learn loads once per process, not per run)
from newsletter.config import Settings, load_settings  # noqa: E402
from newsletter.delivery.editions.build import build_edition  # noqa: E402
from newsletter.delivery.ledger.claims import Ledger  # noqa: E402
from newsletter.delivery.messages.compose import Composer  # noqa: E402
from newsletter.delivery.sending.sender import Sender  # noqa: E402
from newsletter.delivery.sending.transport import Transport, make_transport  # noqa: E402
from newsletter.store import migrate  # noqa: E402
from newsletter.store.database import Database  # noqa: E402
from newsletter.store.models import (  # noqa: E402
    Delivery,
    Edition,
    Frequency,
    Paper,
    Subscriber,
    Topic,
)

SHARED_PAPERS = Path("/work/shared/data/papers.json")
SAMPLE_PAPERS = ROOT / "newsletter" / "sources" / "sample" / "papers.json"
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


# --- the SMTP server, in its own process ------------------------------------------------------
class DropHandler:
    """Accept and forget: the server must not be the thing we measure."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 2.0.0 OK"


def fast_smtp_class() -> Any:
    """aiosmtpd's SMTP with a bulk DATA reader.

    Stock aiosmtpd reads DATA one line at a time (about 30 us a line here, 400 lines a
    digest), which caps the server near 100 messages/s and would hide any client cost. This
    reads the body in 64 kB chunks up to the final ``CRLF.CRLF``; every other command is
    aiosmtpd's own. (No dot-unstuffing: the message is dropped anyway.)
    """
    from aiosmtpd.smtp import SMTP

    class FastDataSMTP(SMTP):  # type: ignore[misc]
        async def smtp_DATA(self, arg: str) -> None:
            if await self.check_helo_needed():
                return
            if not self.envelope.rcpt_tos:
                await self.push("503 Error: need RCPT command")
                return
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            buffer = bytearray()
            while not buffer.endswith(b"\r\n.\r\n"):
                chunk = await self._reader.read(65536)
                if not chunk:
                    return
                buffer += chunk
            self.envelope.original_content = self.envelope.content = bytes(buffer[:-3])
            status = await self._call_handler_hook("DATA")
            self._set_post_data_state()
            await self.push(status)

    return FastDataSMTP


def serve(port: int, ready: Any) -> None:
    smtp_class = fast_smtp_class()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: smtp_class(DropHandler(), hostname="bench", ident="bench"), "127.0.0.1", port
        )
        ready.set()
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


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


def add_subscribers(db: Database, count: int) -> int:
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
    return len({tuple(sorted(t["label"] for t in topics if t["subscriber_id"] == s["id"]))
                for s in subscribers[:2000]})


# --- the two runs -------------------------------------------------------------------------------
class Capture:
    """Keeps the exact bytes the pipeline sent, for the raw run (an append per message)."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.sent: list[tuple[str, str, bytes]] = []

    async def send(self, message: Any) -> str:
        return await self.inner.send(message)

    async def send_raw(self, sender: str, recipient: str, data: bytes) -> str:
        reply = await self.inner.send_raw(sender, recipient, data)
        self.sent.append((sender, recipient, data))
        return reply

    async def close(self) -> None:
        await self.inner.close()


def prebuild(db: Database, settings: Settings) -> list[tuple[str, str, bytes]]:
    """The edition's messages built by the same code but not sent, for the first raw run;
    the edition is then deleted so that the measured pipeline starts from nothing."""
    build_edition(db, settings, frequency=Frequency.DAILY, issue_date=date.today(), now=NOW)
    ledger = Ledger(db, owner="prebuild", lease_seconds=60)
    composer = Composer(settings)
    claims = ledger.peek(datetime.now(UTC), 10_000_000)
    composer.add_papers(ledger.papers(composer.missing_papers(claims)))
    messages = []
    for claim in claims:
        recipient, _, data = composer.compose(claim, NOW)
        messages.append((settings.sender_address, recipient, data))
    with db.session() as session:
        session.execute(delete(Delivery))
        session.execute(delete(Edition))
    return messages


async def pipeline(db: Database, settings: Settings) -> tuple[float, Capture, Any, Any]:
    started = time.perf_counter()
    stats = build_edition(db, settings, frequency=Frequency.DAILY, issue_date=date.today(),
                          now=NOW)
    built = time.perf_counter()
    transport = Capture(make_transport(settings))
    sender = Sender(db, settings, transport, owner="bench", rng=random.Random(1))
    summary = await sender.run()
    await transport.close()
    finished = time.perf_counter()
    print(f"  edition built in {built - started:.2f} s: {stats.queued} queued, "
          f"{stats.nothing_relevant} with nothing relevant; "
          f"{sender.composer.renders} distinct digests rendered")
    return finished - started, transport, summary, stats


async def raw(port: int, connections: int, messages: list[tuple[str, str, bytes]]) -> float:
    queue: asyncio.Queue[tuple[str, str, bytes]] = asyncio.Queue()
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=20_000)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()

    port = free_port()
    ready = multiprocessing.Event()
    server = multiprocessing.Process(target=serve, args=(port, ready), daemon=True)
    server.start()
    ready.wait(10)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        migrate.upgrade(url)
        db = Database(url)
        papers = load_papers(db)
        sets = add_subscribers(db, args.subscribers)
        print(f"{args.subscribers} subscribers (~{sets} distinct topic sets in the first 2000), "
              f"{papers} papers, {args.connections} connections")
        settings = load_settings(
            database_url=url, secret_key="b" * 40, var_dir=Path(folder),
            smtp_url=f"smtp://127.0.0.1:{port}?tls=none", smtp_pool_size=args.connections,
            smtp_messages_per_connection=1_000_000, delivery_batch_size=500,
            sender_address="digest@bench.example.org", base_url="https://bench.example.org",
        )
        prebuilt = prebuild(db, settings)
        before = asyncio.run(raw(port, args.connections, prebuilt))
        elapsed, capture, summary, _ = asyncio.run(pipeline(db, settings))
        print(f"  pipeline: {summary}")
        after = asyncio.run(raw(port, args.connections, capture.sent))
        db.dispose()
    server.terminate()
    sent = len(capture.sent)
    full = sent / elapsed
    bare = [len(prebuilt) / before, sent / after]
    mean = sum(bare) / 2
    print(f"full pipeline (select, render, build, send, record): {sent} messages in "
          f"{elapsed:.2f} s = {full:,.0f} msg/s")
    print(f"raw aiosmtplib, same messages, same connections: {bare[0]:,.0f} msg/s before, "
          f"{bare[1]:,.0f} msg/s after (the exact bytes the pipeline sent); mean {mean:,.0f}")
    print(f"ratio: {full / mean:.0%} of the raw rate (target >= 80%)")


if __name__ == "__main__":
    main()
