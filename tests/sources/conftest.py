"""Recorded responses served by httpx's MockTransport, and a fake clock that never waits."""

from __future__ import annotations

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
