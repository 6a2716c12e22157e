"""``newsletter serve`` as an operator runs it: one process, real SMTP, SIGTERM to stop."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.network import free_port
from tests.smtp_server import SmtpServer
from tests.web.helpers import csrf_token, link_in, mail_to, path_of, subscribe_fields, wait_for

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Service:
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def service(tmp_path: Path, smtp_server: SmtpServer) -> Iterator[Service]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "NEWSLETTER_ENVIRONMENT": "development",
        "NEWSLETTER_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "NEWSLETTER_VAR_DIR": str(tmp_path / "var"),
        "NEWSLETTER_BASE_URL": base_url,
        "NEWSLETTER_SMTP_URL": smtp_server.url,
        "NEWSLETTER_INGEST_SOURCES": "file",  # the bundled sample: no network in tests
        "NEWSLETTER_DELIVERY_POLL_SECONDS": "0.5",
    }
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "newsletter",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=tmp_path,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    running = Service(process, base_url, log)
    try:
        wait_for(lambda: _healthy(base_url) or process.poll() is not None, 60, "service start")
        assert process.poll() is None, running.output()
        yield running
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def _healthy(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.slow
def test_serve_answers_and_stops_cleanly_on_sigterm(service: Service) -> None:
    health = httpx.get(f"{service.base_url}/healthz").json()
    assert health == {"status": "ok", "database": "reachable", "scheduler": "running"}
    service.process.send_signal(signal.SIGTERM)
    assert service.process.wait(30) == 0, service.output()
    assert "stopping" in service.output()
    assert "Traceback" not in service.output()


@pytest.mark.slow
def test_subscribe_confirm_and_get_the_first_digest(
    service: Service, smtp_server: SmtpServer
) -> None:
    """The whole product: the form, the confirmation email, the button, the first digest."""
    with httpx.Client(base_url=service.base_url, timeout=30) as browser:
        home = browser.get("/")
        fields = subscribe_fields(
            "reader@example.org", csrf_token=csrf_token(home.text), topic=["reasoning", "agents"]
        )
        assert browser.post("/subscribe", data=fields).status_code == 200
        confirm = path_of(link_in(mail_to(smtp_server, "reader@example.org")[0], "confirm"))
        page = browser.get(confirm)
        done = browser.post(confirm, data={"csrf_token": csrf_token(page.text)})
        assert done.status_code == 200 and "You are subscribed" in done.text
        preview = re.search(r'src="(/preferences/[^"]+/preview)"', done.text)
        assert preview is not None
        framed = browser.get(preview.group(1))
        assert framed.status_code == 200 and "<html" in framed.text.lower()
    started = time.monotonic()
    messages = mail_to(smtp_server, "reader@example.org", count=3, timeout=60)
    subjects = [str(m["Subject"]) for m in messages]
    assert len(messages) == 3, subjects
    assert time.monotonic() - started < 60
    digest = messages[-1]
    assert digest["List-Unsubscribe"] and digest["List-Unsubscribe-Post"]
    service.process.send_signal(signal.SIGTERM)
    assert service.process.wait(30) == 0, service.output()
