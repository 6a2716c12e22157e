"""Load on the sign-up form: ``newsletter serve`` on PostgreSQL, 200 concurrent clients, 30 s.

Run from the repository root (PostgreSQL must be up)::

    NEWSLETTER_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/bench_subscribe.py [--clients 200] [--seconds 30]

It creates a database (dropped at the end), starts ``newsletter serve`` as a subprocess with the
per-client rate limit raised and SMTP pointed at an aiosmtpd server inside this process, and has
every client post the form in a loop, some addresses shared between clients. Then it checks
that no answer was a 5xx, that every distinct address has exactly one subscriber row and
received exactly one confirmation email, and prints p50/p99 latency and requests per second.
Everything stays on loopback and stops by itself. Exit status 1 if a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newsletter.store.models import Subscriber  # noqa: E402

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
MAX_POSTS_PER_CLIENT = 5_000
SHARED_ADDRESSES = 300
SHARED_SHARE = 0.3


class Inbox:
    """aiosmtpd handler counting messages per recipient."""

    def __init__(self) -> None:
        self.count: Counter[str] = Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.count[rcpt.lower()] += 1
        return "250 2.0.0 accepted"

    def total(self) -> int:
        with self.lock:
            return sum(self.count.values())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    accepted: set[str] = field(default_factory=set)
    errors: Counter[str] = field(default_factory=Counter)


def fields(token: str, email: str) -> dict[str, Any]:
    return {
        "csrf_token": token,
        "email": email,
        "topic": ["reasoning", "agents"],
        "custom_label_0": "Speech",
        "custom_keywords_0": "speech recognition, text-to-speech",
        "frequency": "daily",
        "send_hour": "7",
        "timezone": "Europe/Paris",
        "website": "",
    }


async def client_loop(
    number: int, base_url: str, deadline: float, results: Results, rng: random.Random
) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        home = await client.get("/")
        found = TOKEN.search(home.text)
        if found is None:
            results.errors["no form token"] += 1
            return
        token = found.group(1)
        for n in range(MAX_POSTS_PER_CLIENT):
            if time.monotonic() >= deadline:
                return
            if rng.random() < SHARED_SHARE:
                email = f"shared{rng.randrange(SHARED_ADDRESSES)}@example.org"
            else:
                email = f"c{number}-{n}@example.org"
            started = time.perf_counter()
            try:
                response = await client.post("/subscribe", data=fields(token, email))
            except httpx.HTTPError as exc:
                results.errors[type(exc).__name__] += 1
                continue
            results.latencies.append(time.perf_counter() - started)
            results.statuses[response.status_code] += 1
            if response.status_code == 200:
                results.accepted.add(email)


async def load(base_url: str, clients: int, seconds: float) -> tuple[Results, float]:
    results = Results()
    rng = random.Random(6)
    deadline = time.monotonic() + seconds
    started = time.monotonic()
    await asyncio.gather(
        *(
            client_loop(i, base_url, deadline, results, random.Random(rng.random()))
            for i in range(clients)
        )
    )
    return results, time.monotonic() - started


def wait_healthy(base_url: str, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"newsletter serve exited early with status {process.returncode}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    sys.exit("newsletter serve did not become healthy")


def wait_settled(inbox: Inbox, expected: int, timeout: float = 120) -> None:
    """Confirmation emails leave after the responses: wait until they stop arriving."""
    deadline = time.monotonic() + timeout
    last, stable_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        total = inbox.total()
        if total != last:
            last, stable_since = total, time.monotonic()
        elif total >= expected or time.monotonic() - stable_since > 5:
            return
        time.sleep(0.25)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def check(db_url: str, inbox: Inbox, results: Results) -> list[str]:
    problems = []
    server_errors = sum(n for code, n in results.statuses.items() if code >= 500)
    if server_errors:
        problems.append(f"{server_errors} answers were 5xx")
    if results.errors:
        problems.append(f"transport errors: {dict(results.errors)}")
    engine = create_engine(db_url)
    with engine.connect() as conn:
        rows = dict(
            conn.execute(
                select(Subscriber.email, func.count()).group_by(Subscriber.email)
            ).all()
        )
    engine.dispose()
    missing = [e for e in results.accepted if rows.get(e) != 1]
    if missing:
        problems.append(f"{len(missing)} addresses without exactly one row, e.g. {missing[:3]}")
    extra = set(rows) - results.accepted
    if extra:
        problems.append(f"{len(extra)} rows for addresses never accepted")
    wrong_mail = {e: inbox.count.get(e, 0) for e in results.accepted if inbox.count.get(e) != 1}
    if wrong_mail:
        sample = dict(list(wrong_mail.items())[:5])
        problems.append(f"{len(wrong_mail)} addresses without exactly one email, e.g. {sample}")
    return problems


def report(results: Results, elapsed: float, clients: int) -> None:
    count = len(results.latencies)
    print(f"clients: {clients}, duration: {elapsed:.1f} s, posts: {count}")
    print(f"status codes: {dict(sorted(results.statuses.items()))}")
    if count:
        print(
            f"latency p50 {percentile(results.latencies, 0.5) * 1000:.1f} ms, "
            f"p99 {percentile(results.latencies, 0.99) * 1000:.1f} ms, "
            f"mean {statistics.fmean(results.latencies) * 1000:.1f} ms"
        )
    print(f"throughput: {count / elapsed:.1f} requests/s")
    print(f"distinct addresses accepted: {len(results.accepted)}")


def create_database(admin_url: str) -> tuple[str, str]:
    name = f"newsletter_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, name: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def start_service(
    db_url: str, smtp_port: int, workdir: Path
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "NEWSLETTER_ENVIRONMENT": "development",
        "NEWSLETTER_DATABASE_URL": db_url,
        "NEWSLETTER_BASE_URL": base_url,
        "NEWSLETTER_VAR_DIR": str(workdir / "var"),
        "NEWSLETTER_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}?tls=none",
        "NEWSLETTER_SUBSCRIBE_RATE_LIMIT_PER_MINUTE": "100000000",
        "NEWSLETTER_INGEST_SOURCES": "file",
    }
    log = (workdir / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "newsletter", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    return process, base_url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    admin_url = os.environ.get("NEWSLETTER_TEST_POSTGRES_URL")
    if not admin_url:
        sys.exit("set NEWSLETTER_TEST_POSTGRES_URL to a PostgreSQL server URL")
    workdir = ROOT / "bench" / "out" / f"subscribe-{int(time.time())}"
    workdir.mkdir(parents=True, exist_ok=True)
    inbox = Inbox()
    smtp_port = free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    name, db_url = create_database(admin_url)
    process = None
    try:
        process, base_url = start_service(db_url, smtp_port, workdir)
        wait_healthy(base_url, process)
        results, elapsed = asyncio.run(load(base_url, args.clients, args.seconds))
        wait_settled(inbox, len(results.accepted))
        report(results, elapsed, args.clients)
        problems = check(db_url, inbox, results)
    finally:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
        smtp.stop()
        drop_database(admin_url, name)
    print(f"service log: {workdir / 'serve.log'}")
    if problems:
        print("FAILED:\n  " + "\n  ".join(problems))
        sys.exit(1)
    print("checks passed: no 5xx, one row and one confirmation email per distinct address")


if __name__ == "__main__":
    main()
