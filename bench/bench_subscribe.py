"""Load on the sign-up form: ``newsletter serve`` on PostgreSQL against a minimal app, same run.

Run from the repository root (PostgreSQL must be up)::

    NEWSLETTER_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/bench_subscribe.py [--clients 200] [--seconds 20] [--rate 150]
        [--profile serve.txt]

It creates a database (dropped at the end) and measures, one after the other:

1. the anchor: ``bench/minimal_signup.py`` (FastAPI that validates an address and inserts one
   row) under ``--clients`` closed-loop clients for ``--seconds``;
2. ``newsletter serve`` (per-client rate limit raised, SMTP to an aiosmtpd server inside this
   process) under the same closed loop: its throughput as a share of the anchor's
   (goal >= 60%), and the CPU time each server process spent per post (a figure that other
   load on a shared machine does not inflate as it does throughput);
3. ``newsletter serve`` under an open loop: ``--rate`` posts a second offered on a fixed
   schedule whatever the answers do, latency counted from each post's scheduled time, so a
   stall is not hidden (goal p99 < 100 ms). Printed beside it: how much of the time each
   app's event loop waited for a CPU during its open loop, and the load average; on a shared
   2-core machine a tail the minimal app shows too, with a waiting event loop, is other load.

Some addresses are shared between clients. Then it checks that no answer was a 5xx, that every
distinct address has exactly one subscriber row and received exactly one confirmation email.
``--profile FILE`` samples ``newsletter serve`` with py-spy (``pip install py-spy``) during the
closed loop and prints where its time went. ``--separate-sender`` runs serve with
``NEWSLETTER_SERVE_SENDER=false`` beside one ``newsletter worker`` that sends the confirmation
emails (the CPU per post then counts both processes). Exit status 1 if a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
OPEN_LOOP_CONNECTIONS = 64


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


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (Linux): a share of the machine that
    other load on it cannot inflate, unlike wall-clock throughput."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_wait_seconds(pid: int) -> float:
    """Time the process's main thread (the event loop) spent runnable but waiting for a CPU
    (Linux schedstat): what other load on the machine costs it."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9


class CpuMeter:
    """CPU seconds a process spends between ``start`` (a ``load`` on_start hook) and ``stop``,
    and how long its event loop waited for a CPU meanwhile (``waited``, over ``elapsed``)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.started = self.spent = 0.0
        self.wait_started = self.waited = 0.0
        self.clock_started = self.elapsed = 0.0

    def start(self) -> None:
        self.started = cpu_seconds(self.pid)
        self.wait_started = cpu_wait_seconds(self.pid)
        self.clock_started = time.monotonic()

    def stop(self) -> None:
        self.spent = cpu_seconds(self.pid) - self.started
        self.waited = cpu_wait_seconds(self.pid) - self.wait_started
        self.elapsed = time.monotonic() - self.clock_started

    def waiting_share(self) -> float:
        return self.waited / self.elapsed if self.elapsed else float("nan")


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


@contextmanager
def no_collector_pauses() -> Iterator[None]:
    """The load generator without garbage collection while it measures.

    This process holds the SMTP server, SQLAlchemy and the results. Its full collections
    stalled it for 100-300 ms at the same points of every run, and every post in flight
    counted the stall as the server's latency: the minimal app's open-loop p99 was 200-600 ms
    in such runs and 10-30 ms with collection off while measuring."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


async def client_loop(
    number: int, client: httpx.AsyncClient, token: str, deadline: float, results: Results,
    rng: random.Random,
) -> None:
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


async def form_token(client: httpx.AsyncClient) -> str:
    found = TOKEN.search((await client.get("/")).text)
    if found is None:
        raise SystemExit("the home page has no form token")
    return found.group(1)


async def load(
    base_url: str, clients: int, seconds: float, on_start: Callable[[], object] | None = None
) -> tuple[Results, float]:
    """Every client opens the form first (not timed: the goal is about sign-up posts), then
    all post in a closed loop for ``seconds``."""
    results = Results()
    rng = random.Random(6)
    sessions = [httpx.AsyncClient(base_url=base_url, timeout=60) for _ in range(clients)]
    try:
        tokens = await asyncio.gather(*(form_token(c) for c in sessions))
        if on_start is not None:
            on_start()
        with no_collector_pauses():
            started = time.monotonic()
            deadline = started + seconds
            await asyncio.gather(*(
                client_loop(i, c, t, deadline, results, random.Random(rng.random()))
                for i, (c, t) in enumerate(zip(sessions, tokens, strict=True))
            ))
            return results, time.monotonic() - started
    finally:
        await asyncio.gather(*(c.aclose() for c in sessions))


async def open_loop(
    base_url: str, rate: float, seconds: float, results: Results, rng: random.Random
) -> float:
    """``rate`` posts a second on a fixed schedule; latency from each post's scheduled time."""
    # A fixed set of kept-alive connections, opened before the clock starts: opening one per
    # post made this client, not the server, the bottleneck. Each connection is a client of its
    # own that takes the next due post from one queue: an httpx pool checks every connection
    # it holds on each request (a poll and a getpeername each), and with thousands of posts
    # waiting in one pool of 64, plus httpcore's import of a missing sniffio on every lock
    # (see the test extra in pyproject.toml), this client spent a whole core on itself
    # (measured: 90% CPU, 71 req/s served of 150 offered). A post waiting for a free
    # connection still counts its wait: latency runs from its scheduled time.
    due: asyncio.Queue[tuple[int, float] | None] = asyncio.Queue()
    clients = [
        httpx.AsyncClient(base_url=base_url, timeout=10, limits=httpx.Limits(max_connections=1))
        for _ in range(OPEN_LOOP_CONNECTIONS)
    ]

    async def connection(client: httpx.AsyncClient, token: str) -> None:
        while (item := await due.get()) is not None:
            n, scheduled = item
            if rng.random() < SHARED_SHARE:
                email = f"shared{rng.randrange(SHARED_ADDRESSES)}@example.org"
            else:
                email = f"open-{n}@example.org"
            try:
                response = await client.post("/subscribe", data=fields(token, email))
            except httpx.HTTPError as exc:  # includes no answer in 10 s: an overloaded server
                results.errors[type(exc).__name__] += 1
                continue
            results.latencies.append(time.perf_counter() - scheduled)
            results.statuses[response.status_code] += 1
            if response.status_code == 200:
                results.accepted.add(email)

    try:
        tokens = await asyncio.gather(*(form_token(c) for c in clients))
        workers = [
            asyncio.create_task(connection(c, t)) for c, t in zip(clients, tokens, strict=True)
        ]
        with no_collector_pauses():
            start = time.perf_counter()
            for n in range(int(rate * seconds)):
                scheduled = start + n / rate
                delay = scheduled - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                due.put_nowait((n, scheduled))
            for _ in workers:
                due.put_nowait(None)
            await asyncio.gather(*workers)
            return time.perf_counter() - start
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


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


def wait_idle(pids: list[int], timeout: float = 120) -> float:
    """Wait until the processes stop working (serve's first ingest and edition jobs run at start,
    in threads of the same process): a load measured meanwhile would time the jobs, not the
    form. Returns the seconds waited."""
    started = time.monotonic()
    last = sum(cpu_seconds(pid) for pid in pids)
    while time.monotonic() - started < timeout:
        time.sleep(1.0)
        now = sum(cpu_seconds(pid) for pid in pids)
        if now - last < 0.05:
            break
        last = now
    return time.monotonic() - started


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


def report(label: str, results: Results, elapsed: float) -> float:
    """Print one phase; returns its throughput (answers per second)."""
    count = len(results.latencies)
    rate = count / elapsed if elapsed else 0.0
    line = f"{label}: {count} posts in {elapsed:.1f} s = {rate:.1f} req/s"
    if count:
        line += (
            f"; latency p50 {percentile(results.latencies, 0.5) * 1000:.1f} ms, "
            f"p99 {percentile(results.latencies, 0.99) * 1000:.1f} ms, "
            f"mean {statistics.fmean(results.latencies) * 1000:.1f} ms"
        )
    print(line)
    print(f"  status codes: {dict(sorted(results.statuses.items()))}"
          + (f", errors: {dict(results.errors)}" if results.errors else ""))
    return rate


def merge(*parts: Results) -> Results:
    merged = Results()
    for part in parts:
        merged.latencies += part.latencies
        merged.statuses.update(part.statuses)
        merged.accepted |= part.accepted
        merged.errors.update(part.errors)
    return merged


def start_minimal(db_url: str, workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    log = (workdir / "minimal.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "minimal_signup.py"), "--port", str(port),
         "--database-url", db_url],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )
    return process, f"http://127.0.0.1:{port}"


def stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is not None and process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()


def start_profiler(pid: int, out: Path, seconds: float) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(pid),
         "--duration", str(int(seconds)), "--rate", "200", "--format", "raw", "--gil",
         "--output", str(out), "--nonblocking"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def _frame(raw: str) -> str:
    """``func (/abs/path/file.py:12)`` as ``func (pkg/file.py)``: one entry per function."""
    name, _, where = raw.partition(" (")
    path = where.rstrip(")").rpartition(":")[0] or where.rstrip(")")
    for marker in ("site-packages/", f"{ROOT}/", "/lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{name} ({path})" if path else name


def print_profile(path: Path, top: int = 12) -> None:
    """py-spy's collapsed stacks (the thread holding the GIL: where the CPU went), summed:
    own and inclusive time."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = [_frame(f) for f in stack.split(";")]
        for frame in set(frames):
            inclusive[frame] += samples
        own[frames[-1]] += samples
    if not total:
        print("profile: no samples (py-spy needs ptrace permission)")
        return
    print(f"profile of newsletter serve: {total} samples holding the GIL; top by own time:")
    for frame, samples in own.most_common(top):
        print(f"  {samples / total:6.1%}  {frame}")
    print("  top newsletter functions, inclusive:")
    ours = [(f, n) for f, n in inclusive.most_common() if "(newsletter/" in f]
    for frame, samples in ours[:top]:
        print(f"  {samples / total:6.1%}  {frame}")


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
    db_url: str, smtp_port: int, workdir: Path, *, separate_sender: bool = False
) -> tuple[subprocess.Popen[bytes], str, subprocess.Popen[bytes] | None]:
    """``newsletter serve``, and with ``separate_sender`` serve without its own sender
    (``NEWSLETTER_SERVE_SENDER=false``) beside one ``newsletter worker`` that sends instead."""
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
    if separate_sender:
        env["NEWSLETTER_SERVE_SENDER"] = "false"
        env["NEWSLETTER_DELIVERY_POLL_SECONDS"] = "0.5"
    log = (workdir / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "newsletter", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    wait_healthy(base_url, process)  # serve has migrated the database: a worker can start
    worker = None
    if separate_sender:
        worker = subprocess.Popen(
            [sys.executable, "-m", "newsletter", "worker"], cwd=ROOT, env=env,
            stdout=(workdir / "worker.log").open("wb"), stderr=subprocess.STDOUT,
        )
    return process, base_url, worker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=150.0, help="open loop: posts per second")
    parser.add_argument("--profile", type=Path, help="py-spy samples of serve to this file")
    parser.add_argument(
        "--separate-sender", action="store_true",
        help="serve with NEWSLETTER_SERVE_SENDER=false and one `newsletter worker` sending",
    )
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
    process = minimal = worker = None
    try:
        minimal, minimal_url = start_minimal(db_url, workdir)
        wait_healthy(minimal_url, minimal)
        anchor_cpu = CpuMeter(minimal.pid)
        anchor, anchor_time = asyncio.run(
            load(minimal_url, args.clients, args.seconds, anchor_cpu.start)
        )
        anchor_cpu.stop()
        anchor_open = Results()
        anchor_open_cpu = CpuMeter(minimal.pid)
        anchor_open_cpu.start()
        anchor_open_time = asyncio.run(
            open_loop(minimal_url, args.rate, args.seconds, anchor_open, random.Random(9))
        )
        anchor_open_cpu.stop()
        stop(minimal)
        process, base_url, worker = start_service(
            db_url, smtp_port, workdir, separate_sender=args.separate_sender
        )
        profilers: list[subprocess.Popen[bytes]] = []
        pid = process.pid

        idle = wait_idle([pid] + ([worker.pid] if worker is not None else []))
        print(f"(serve's start-up jobs took {idle:.0f} s; measuring after them)")
        serve_cpu = CpuMeter(pid)
        # With a separate sender its CPU is the service's too: a post costs both processes.
        meters = [serve_cpu] + ([CpuMeter(worker.pid)] if worker is not None else [])

        def profile() -> None:
            for meter in meters:
                meter.start()
            if args.profile is not None:
                profilers.append(start_profiler(pid, args.profile, args.seconds))

        # The open loop first, on a fresh service: the closed loop leaves thousands of
        # confirmation emails to send, which would be measured as the open loop's latency.
        opened = Results()
        open_cpu = CpuMeter(pid)
        client_cpu = CpuMeter(os.getpid())  # this load generator (and its SMTP server)
        open_cpu.start()
        client_cpu.start()
        open_time = asyncio.run(
            open_loop(base_url, args.rate, args.seconds, opened, random.Random(9))
        )
        open_cpu.stop()
        client_cpu.stop()
        wait_settled(inbox, len(opened.accepted))
        closed, closed_time = asyncio.run(load(base_url, args.clients, args.seconds, profile))
        for meter in meters:
            meter.stop()
        for profiler in profilers:
            profiler.wait(60)
        results = merge(closed, opened)
        wait_settled(inbox, len(results.accepted))
        print(f"sign-up POSTs, {args.clients} closed-loop clients for {args.seconds:.0f} s each, "
              f"and {args.rate:.0f} req/s offered open loop"
              + ("; serve without its sender, one `newsletter worker` sending"
                 if worker is not None else ""))
        anchor_rate = report("minimal FastAPI app (anchor)", anchor, anchor_time)
        report(f"minimal FastAPI app, open loop at {args.rate:.0f} req/s", anchor_open,
               anchor_open_time)
        serve_rate = report("newsletter serve, closed loop", closed, closed_time)
        report(f"newsletter serve, open loop at {args.rate:.0f} req/s", opened, open_time)
        share = serve_rate / anchor_rate if anchor_rate else 0.0
        p99 = percentile(opened.latencies, 0.99) * 1000 if opened.latencies else float("nan")
        print(f"throughput: {share:.0%} of the minimal app (goal >= 60%)")
        anchor_ms = anchor_cpu.spent / max(1, len(anchor.latencies)) * 1000
        serve_ms = sum(m.spent for m in meters) / max(1, len(closed.latencies)) * 1000
        print(f"server CPU per closed-loop post: {serve_ms:.2f} ms, minimal app {anchor_ms:.2f} ms "
              f"(ratio {serve_ms / anchor_ms if anchor_ms else float('nan'):.2f}; includes sending "
              f"the confirmation emails)")
        if worker is not None:
            shares = ", ".join(
                f"{label} {m.spent / max(1, len(closed.latencies)) * 1000:.2f} ms"
                for label, m in zip(("serve", "worker"), meters, strict=True)
            )
            print(f"  of which: {shares}")
        print(f"open loop p99 at {args.rate:.0f} req/s: {p99:.1f} ms (goal < 100 ms)")
        # A tail that the anchor shares, with an event loop that waited for a CPU, is the
        # machine's (other load), not the service's.
        print(f"open loop, event loop waiting for a CPU: serve {open_cpu.waiting_share():.0%} "
              f"of the time, minimal app {anchor_open_cpu.waiting_share():.0%}; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; "
              f"this load generator used {client_cpu.spent / max(client_cpu.elapsed, 1e-9):.0%} "
              "of a CPU (near 100% it, not the server, would be the limit)")
        if args.profile is not None:
            print_profile(args.profile)
        problems = check(db_url, inbox, results)
        if anchor.statuses.get(200, 0) == 0:
            problems.append("the minimal app answered no post with 200")
    finally:
        stop(minimal)
        stop(process)
        stop(worker)
        smtp.stop()
        drop_database(admin_url, name)
    print(f"service log: {workdir / 'serve.log'}")
    if problems:
        print("FAILED:\n  " + "\n  ".join(problems))
        sys.exit(1)
    print("checks passed: no 5xx, one row and one confirmation email per distinct address")


if __name__ == "__main__":
    main()
