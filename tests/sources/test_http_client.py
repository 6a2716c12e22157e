"""Polite HTTP: retries with backoff and Retry-After, conditional requests, spacing, identity."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from newsletter.config import Settings
from newsletter.errors import SourceError
from newsletter.sources.http_client import HttpStatusError, make_client, user_agent
from newsletter.sources.pacing import Pacer
from tests.sources.conftest import FakeTime, Handler, Serve, make_fetcher

URL = "https://api.example.org/list"


def _replies(*responses: httpx.Response | Exception) -> Handler:
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        reply = queue.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply

    return handler


def test_429_waits_as_long_as_retry_after_says(serve: Serve, fake_time: FakeTime) -> None:
    client, server = serve(
        _replies(httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, json=[]))
    )
    response = make_fetcher(client, fake_time).get(URL)
    assert response is not None and response.status_code == 200
    assert fake_time.sleeps == [7.0]
    assert len(server.requests) == 2


def test_retry_after_as_an_http_date(serve: Serve, fake_time: FakeTime) -> None:
    headers = {
        "Retry-After": "Tue, 11 Jun 2024 00:00:30 GMT",
        "Date": "Tue, 11 Jun 2024 00:00:00 GMT",
    }
    client, _ = serve(_replies(httpx.Response(503, headers=headers), httpx.Response(200)))
    make_fetcher(client, fake_time).get(URL)
    assert fake_time.sleeps == [30.0]


def test_5xx_and_dropped_connections_back_off_exponentially(
    serve: Serve, fake_time: FakeTime
) -> None:
    client, server = serve(
        _replies(
            httpx.Response(503),
            httpx.ConnectError("connection refused"),
            httpx.Response(502),
            httpx.Response(200, text="ok"),
        )
    )
    response = make_fetcher(client, fake_time).get(URL)
    assert response is not None and response.text == "ok"
    assert fake_time.sleeps == [2.0, 4.0, 8.0]
    assert len(server.requests) == 4


def test_giving_up_is_a_source_error(serve: Serve, fake_time: FakeTime) -> None:
    client, server = serve(lambda request: httpx.Response(503))
    with pytest.raises(HttpStatusError, match="HTTP 503 after 3 attempts") as caught:
        make_fetcher(client, fake_time, attempts=3).get(URL)
    assert caught.value.status == 503 and len(server.requests) == 3


def test_a_server_that_is_down_is_a_source_error(serve: Serve, fake_time: FakeTime) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused")

    client, _ = serve(refuse)
    with pytest.raises(SourceError, match="ConnectError"):
        make_fetcher(client, fake_time, attempts=2).get(URL)


def test_other_client_errors_are_not_retried(serve: Serve, fake_time: FakeTime) -> None:
    client, server = serve(lambda request: httpx.Response(404))
    with pytest.raises(HttpStatusError, match="HTTP 404"):
        make_fetcher(client, fake_time).get(URL)
    assert len(server.requests) == 1 and fake_time.sleeps == []


def test_a_retry_after_of_an_hour_is_not_waited_for(serve: Serve, fake_time: FakeTime) -> None:
    client, _ = serve(lambda request: httpx.Response(429, headers={"Retry-After": "3600"}))
    with pytest.raises(HttpStatusError, match="retry in 3600 s"):
        make_fetcher(client, fake_time).get(URL)
    assert fake_time.sleeps == []


def test_etag_and_last_modified_make_the_next_request_conditional(
    serve: Serve, fake_time: FakeTime
) -> None:
    validators = {"ETag": '"v1"', "Last-Modified": "Tue, 11 Jun 2024 04:00:00 GMT"}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers.get("If-None-Match") == '"v1"':
            return httpx.Response(304)
        return httpx.Response(200, json=[1], headers=validators)

    client, server = serve(handler)
    fetcher = make_fetcher(client, fake_time)
    assert fetcher.get(URL, {"date": "2024-06-11"}) is not None
    assert fetcher.get(URL, {"date": "2024-06-11"}) is not None  # not committed yet
    fetcher.commit()
    assert fetcher.get(URL, {"date": "2024-06-11"}) is None  # 304: nothing new
    assert server.requests[-1].headers["If-Modified-Since"] == validators["Last-Modified"]
    assert fetcher.get(URL, {"date": "2024-06-12"}) is not None  # another URL, no validators


def test_pacer_spaces_requests_three_seconds_apart(serve: Serve, fake_time: FakeTime) -> None:
    client, server = serve(lambda request: httpx.Response(200))
    pacer = Pacer(3.0, clock=fake_time.clock, sleep=fake_time.sleep)
    fetcher = make_fetcher(client, fake_time, pacer=pacer)
    for _ in range(3):
        fetcher.get(URL)
        fake_time.now += 1.0  # parsing takes a second
    gaps = [b - a for a, b in zip(server.sent_at, server.sent_at[1:], strict=False)]
    assert gaps == [3.0, 3.0]
    assert fake_time.sleeps == [2.0, 2.0]


def test_the_client_names_the_project_and_a_contact(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(
        base_url="https://papers.example.org", sender_address="ops@example.org"
    )
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    with make_client(settings, transport=httpx.MockTransport(handler)) as client:
        client.get(URL)
    agent = seen[0].headers["User-Agent"]
    assert agent == user_agent(settings)
    assert agent.startswith("newsletter/0.1") and "https://papers.example.org" in agent
    assert "ops@example.org" in agent
    assert client.timeout.read == settings.http_timeout
