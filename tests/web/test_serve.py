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


def service_env(tmp_path: Path, smtp_url: str, base_url: str, **overrides: str) -> dict[str, str]:
    """The environment of a service (or a worker beside it) on the database in ``tmp_path``."""
    return {
        **os.environ,
        "NEWSLETTER_ENVIRONMENT": "development",
        "NEWSLETTER_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "NEWSLETTER_VAR_DIR": str(tmp_path / "var"),
        "NEWSLETTER_BASE_URL": base_url,
        "NEWSLETTER_SMTP_URL": smtp_url,
        "NEWSLETTER_INGEST_SOURCES": "file",  # the bundled sample: no network in tests
        "NEWSLETTER_DELIVERY_POLL_SECONDS": "0.5",
        **overrides,
    }


def start_service(
    tmp_path: Path, smtp_url: str, *, port: int | None = None, **env_overrides: str
) -> Service:
    """``newsletter serve`` as a subprocess on a database in ``tmp_path``; waits until healthy."""
    port = port or free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = service_env(tmp_path, smtp_url, base_url, **env_overrides)
    log = tmp_path / f"serve-{port}-{time.monotonic_ns()}.log"
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
    except BaseException:
        process.kill()
        process.wait(10)
        raise
    return running


@pytest.fixture
def service(tmp_path: Path, smtp_server: SmtpServer) -> Iterator[Service]:
    running = start_service(tmp_path, smtp_server.url)
    try:
        yield running
    finally:
        if running.process.poll() is None:
            running.process.kill()
            running.process.wait(10)


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


@pytest.mark.slow
def test_sign_ups_while_the_relay_is_down_survive_a_kill(tmp_path: Path) -> None:
    """Ten sign-ups with the relay down, SIGKILL, relay back, restart: ten confirmations,
    one each. The emails were rows committed with the sign-ups, never tasks in memory."""
    relay = SmtpServer()  # its port is chosen now; nothing listens there yet
    url = f"smtp://127.0.0.1:{relay.controller.port}?tls=none"
    quick = {
        "NEWSLETTER_DELIVERY_BACKOFF_SECONDS": "1",
        "NEWSLETTER_DELIVERY_MAX_ATTEMPTS": "100",
        "NEWSLETTER_DELIVERY_LEASE_SECONDS": "5",
    }
    port = free_port()
    people = [f"person{n}@example.org" for n in range(10)]
    first = start_service(tmp_path, url, port=port, **quick)
    try:
        with httpx.Client(base_url=first.base_url, timeout=30) as browser:
            for address in people:
                form = subscribe_fields(address, csrf_token=csrf_token(browser.get("/").text))
                answer = browser.post("/subscribe", data=form)
                assert answer.status_code == 200 and "inbox" in answer.text.lower()
        time.sleep(1.5)  # the sender has tried (and failed) at least once
    finally:
        first.process.kill()  # SIGKILL: no cleanup of any kind
        first.process.wait(10)
    assert "Traceback" not in first.output()
    relay.start()
    second = start_service(tmp_path, url, port=port, **quick)
    try:
        for address in people:
            assert len(mail_to(relay, address, timeout=60)) == 1
        time.sleep(3)  # anything sent twice would have arrived by now
        counts = {address: len(relay.messages_to(address)) for address in people}
        assert counts == dict.fromkeys(people, 1)
        assert all("Confirm" in str(relay.messages_to(a)[0]["Subject"]) for a in people)
    finally:
        second.process.send_signal(signal.SIGTERM)
        second.process.wait(30)
        relay.stop()


@pytest.mark.slow
def test_serve_without_its_sender_leaves_mail_to_a_worker(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    """NEWSLETTER_SERVE_SENDER=false: the sign-up commits its confirmation email and serve
    sends nothing; a `newsletter worker` on the same database sends it, once."""
    service = start_service(tmp_path, smtp_server.url, NEWSLETTER_SERVE_SENDER="false")
    worker: subprocess.Popen[bytes] | None = None
    try:
        with httpx.Client(base_url=service.base_url, timeout=30) as browser:
            token = csrf_token(browser.get("/").text)
            form = subscribe_fields("solo@example.org", csrf_token=token)
            assert browser.post("/subscribe", data=form).status_code == 200
        time.sleep(2)  # serve's own sender, were it running, would have sent by now (poll 0.5 s)
        assert smtp_server.messages_to("solo@example.org") == []
        assert "no sender in this process" in service.output()
        worker = subprocess.Popen(
            [sys.executable, "-m", "newsletter", "worker"], cwd=tmp_path,
            env=service_env(tmp_path, smtp_server.url, service.base_url),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        confirmation = mail_to(smtp_server, "solo@example.org", timeout=60)
        assert "Confirm" in str(confirmation[0]["Subject"])
        time.sleep(2)  # a second copy would have arrived by now
        assert len(smtp_server.messages_to("solo@example.org")) == 1
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            worker.wait(30)
        service.process.send_signal(signal.SIGTERM)
        assert service.process.wait(30) == 0, service.output()
