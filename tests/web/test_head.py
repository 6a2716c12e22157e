"""HEAD answers on every GET route, through real uvicorn, as uptime monitors send it."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.routing import APIRoute

from newsletter.config import Settings
from newsletter.service import server_config
from newsletter.store.database import Database
from newsletter.web import create_app
from newsletter.web.routes import confirm, dev, health, preferences, subscribe, unsubscribe


@pytest.fixture
def served(web_settings: Settings, db: Database) -> Iterator[tuple[FastAPI, str]]:
    app = create_app(web_settings, db)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = server_config(app, web_settings, host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield app, f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()


def _get_paths() -> list[str]:
    """Every GET route of every router the app includes (development ones too), path
    parameters filled with a value that is no valid token."""
    paths = [
        re.sub(r"\{[^}]+\}", "not-a-token", route.path)
        for module in (confirm, dev, health, preferences, subscribe, unsubscribe)
        for route in module.router.routes
        if isinstance(route, APIRoute) and "GET" in route.methods
    ]
    return [*paths, "/static/style.css", "/no-such-page"]


def test_head_answers_like_get_on_every_get_route(served: tuple[FastAPI, str]) -> None:
    _, base = served
    paths = _get_paths()
    assert "/" in paths and "/healthz" in paths
    with httpx.Client(base_url=base) as client:
        for path in paths:
            got, head = client.get(path), client.head(path)
            assert head.status_code == got.status_code != 405, path
            assert head.content == b"", path
            assert head.headers.get("content-length") == got.headers.get("content-length"), path
            assert head.headers["content-type"] == got.headers["content-type"], path
            assert head.headers["x-content-type-options"] == "nosniff", path
