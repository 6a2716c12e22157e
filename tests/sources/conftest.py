"""Recorded responses served by httpx's MockTransport, and a fake clock that never waits."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from newsletter.sources.http_client import PROCESS_VALIDATORS, HttpFetcher, Validators
from newsletter.sources.pacing import Pacer

FIXTURES = Path(__file__).parent / "fixtures"
Handler = Callable[[httpx.Request], httpx.Response]


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


class FakeTime:
    """A monotonic clock that only moves when someone sleeps; sleeps are recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Recorder:
    """Wraps a handler: keeps every request and the fake time it was sent at."""

    def __init__(self, handler: Handler, time: FakeTime) -> None:
        self.handler = handler
        self.time = time
        self.requests: list[httpx.Request] = []
        self.sent_at: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.sent_at.append(self.time.now)
        return self.handler(request)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


Serve = Callable[[Handler], tuple[httpx.Client, Recorder]]


@pytest.fixture
def serve(fake_time: FakeTime) -> Iterator[Serve]:
    """A client whose every request goes to ``handler`` (no network)."""
    clients: list[httpx.Client] = []

    def build(handler: Handler) -> tuple[httpx.Client, Recorder]:
        recorder = Recorder(handler, fake_time)
        client = httpx.Client(transport=httpx.MockTransport(recorder))
        clients.append(client)
        return client, recorder

    yield build
    for client in clients:
        client.close()


_ENTRY = re.compile(rb"\s*<entry>.*?</entry>", re.DOTALL)
_TOTAL = re.compile(rb"(<opensearch:totalResults[^>]*>)\d+(</opensearch:totalResults>)")


def atom_pages(recording: bytes, total: int | None = None, repeat: bool = False) -> Handler:
    """Serves a recorded API answer the way the API pages it (``start``, ``max_results``).

    ``total`` overrides the ``opensearch:totalResults`` the service claims (it overstates it at
    times); ``repeat`` serves the first page whatever ``start`` says (a service ignoring it).
    """
    entries = _ENTRY.findall(recording)
    head = recording[: recording.index(entries[0])] if entries else recording
    tail = recording[recording.rindex(entries[-1]) + len(entries[-1]) :] if entries else b""
    claimed = str(len(entries) if total is None else total).encode()
    head = _TOTAL.sub(rb"\g<1>" + claimed + rb"\g<2>", head)

    def handler(request: httpx.Request) -> httpx.Response:
        start = 0 if repeat else int(request.url.params.get("start", "0"))
        size = int(request.url.params.get("max_results", "10"))
        return httpx.Response(200, content=head + b"".join(entries[start : start + size]) + tail)

    return handler


def make_fetcher(
    client: httpx.Client, time: FakeTime, pacer: Pacer | None = None, attempts: int = 4
) -> HttpFetcher:
    """A fetcher with its own validators, so tests never share conditional-request state."""
    return HttpFetcher(
        client, sleep=time.sleep, pacer=pacer, attempts=attempts, validators=Validators()
    )


@pytest.fixture(autouse=True)
def _forget_validators() -> Iterator[None]:
    """The runner keeps ETags for the process; each test starts without any."""
    PROCESS_VALIDATORS.clear()
    yield
    PROCESS_VALIDATORS.clear()
