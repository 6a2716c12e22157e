"""Small helpers for driving the web app as a browser would."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select

from newsletter.config import Settings
from newsletter.store.database import Database
from newsletter.store.models import Delivery, Subscriber
from tests.smtp_server import SmtpServer

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class Clock:
    """Real time plus an adjustable offset, so tokens signed "now" can be made to expire."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


def error_message(html: str, field: str) -> str | None:
    """The message shown beside ``field`` (its error id without "-error"), or None."""
    found = re.search(rf'<p class="error-message" id="{field}-error">(.*?)</p>', html, re.S)
    return found.group(1) if found else None


def csrf_token(html: str) -> str:
    found = TOKEN.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def subscribe_fields(email: str, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "email": email,
        "topic": ["reasoning"],
        "custom_label_0": "",
        "custom_keywords_0": "",
        "frequency": "daily",
        "send_hour": "7",
        "timezone": "Europe/Paris",
        "website": "",
    }
    fields.update(overrides)
    return fields


def subscribe(client: Any, email: str, **overrides: Any) -> httpx.Response:
    """GET the home page for a form token, then post the form like a browser."""
    page = client.get("/")
    fields = subscribe_fields(email, csrf_token=csrf_token(page.text), **overrides)
    response: httpx.Response = client.post("/subscribe", data=fields)
    return response


def wait_for(check: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def account_emails(db: Database, address: str) -> list[tuple[str, str]]:
    """(kind, status) of the account emails queued for ``address``, oldest first."""
    with db.session() as session:
        rows = session.execute(
            select(Delivery.kind, Delivery.status)
            .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
            .where(Subscriber.email == address, Delivery.edition_id.is_(None))
            .order_by(Delivery.id)
        ).all()
    return [(kind.value, status.value) for kind, status in rows]


def mail_to(
    smtp: SmtpServer, address: str, count: int = 1, timeout: float = 10.0
) -> list[EmailMessage]:
    def enough() -> list[EmailMessage] | None:
        messages = smtp.messages_to(address)
        return messages if len(messages) >= count else None

    return list(wait_for(enough, timeout, f"{count} message(s) to {address}"))


def text_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    content = part.get_content()
    assert isinstance(content, str)
    return content


def link_in(message: EmailMessage, purpose: str) -> str:
    """The first link to ``/<purpose>/<token>`` in the text part."""
    found = re.search(rf"https?://\S+/{purpose}/[A-Za-z0-9._\-]+", text_part(message))
    assert found, f"no {purpose} link in:\n{text_part(message)}"
    return found.group(0)


def path_of(url: str) -> str:
    return urlsplit(url).path


def bound_socket() -> socket.socket:
    """A loopback socket bound to a free port, handed to uvicorn (no port race)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def serving(settings: Settings, db: Database, sock: socket.socket) -> Iterator[None]:
    """The app under uvicorn in a thread, on an already bound socket, configured as
    ``newsletter serve`` configures it (``service.server_config``: proxies, headers)."""
    import uvicorn

    from newsletter.service import server_config
    from newsletter.web import create_app

    config = server_config(create_app(settings, db), settings, host="127.0.0.1", port=0,
                           log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_for(lambda: server.started, 20, "uvicorn start")
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()
