"""``/healthz``, the development mailbox, and what only development does."""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from newsletter.config import Settings
from newsletter.store.database import Database
from newsletter.web.pages import Pages
from newsletter.web.security import Csrf


def test_healthz_reports_database_and_scheduler(
    make_app: Callable[..., FastAPI], web_settings: Settings
) -> None:
    running = {"value": True}
    app = make_app(web_settings, scheduler_running=lambda: running["value"])
    with TestClient(app) as client:
        ok = client.get("/healthz")
        assert ok.status_code == 200
        assert ok.json() == {"status": "ok", "database": "reachable", "scheduler": "running"}
        running["value"] = False
        down = client.get("/healthz")
        assert down.status_code == 503
        assert down.json()["scheduler"] == "stopped"


def test_healthz_is_503_when_the_database_is_unreachable(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    from newsletter.web import create_app

    missing = tmp_path / "no-such-dir" / "x" / "db.sqlite"
    settings = make_settings(database_url=f"sqlite:///{missing}")
    database = Database(settings.database_url)
    missing.parent.rmdir()  # the engine made the folder; take it away again
    with TestClient(create_app(settings, database)) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def _write_mail(folder: Path, name: str, to: str, subject: str) -> None:
    message = EmailMessage()
    message["From"] = "digest@localhost"
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = "Mon, 23 Nov 2026 07:00:00 +0000"
    message.set_content("Confirm here: http://testserver/confirm/abc.def\n<b>not html</b>\n")
    message.add_alternative(
        '<html><head><style>p{color:red}</style></head><body><p style="color:red">Hi</p>'
        '<a href="http://testserver/confirm/abc.def">Confirm</a></body></html>',
        subtype="html",
    )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(bytes(message))


def test_dev_mailbox_lists_and_shows_messages(
    client: TestClient, web_settings: Settings
) -> None:
    folder = web_settings.mailbox_path
    _write_mail(folder, "1000-aaaa.eml", "old@example.org", "Older one")
    _write_mail(folder, "2000-bbbb.eml", "new@example.org", "Newer one")
    import os

    os.utime(folder / "1000-aaaa.eml", (1, 1))
    listing = client.get("/dev/mailbox")
    assert listing.status_code == 200
    assert listing.text.index("Newer one") < listing.text.index("Older one")
    assert "new@example.org" in listing.text
    page = client.get("/dev/mailbox/2000-bbbb.eml")
    assert page.status_code == 200
    assert '<a href="http://testserver/confirm/abc.def">' in page.text
    assert "&lt;b&gt;not html&lt;/b&gt;" in page.text
    assert 'src="/dev/mailbox/2000-bbbb.eml/html"' in page.text and "sandbox=" in page.text
    framed = client.get("/dev/mailbox/2000-bbbb.eml/html")
    assert framed.status_code == 200
    assert '<base target="_top">' in framed.text
    csp = framed.headers["content-security-policy"]
    assert "sandbox" in csp and "frame-ancestors 'self'" in csp and "script-src" not in csp


def test_dev_mailbox_refuses_paths_outside_it(client: TestClient, web_settings: Settings) -> None:
    _write_mail(web_settings.mailbox_path, "1-a.eml", "a@example.org", "x")
    for name in ("..%2F..%2Fetc%2Fpasswd", "../secret.eml", ".hidden.eml", "nope.eml"):
        assert client.get(f"/dev/mailbox/{name}").status_code == 404


PRODUCTION_URL = "https://papers.example.org"


def _production(make_settings: Callable[..., Settings], db: Database) -> Settings:
    return make_settings(
        database_url=db.url, environment="production", base_url=PRODUCTION_URL,
        smtp_url="smtp://127.0.0.1:9?tls=none",  # production needs a relay; none is contacted
    )


def test_dev_mailbox_is_404_in_production(
    make_app: Callable[..., FastAPI], make_settings: Callable[..., Settings], db: Database
) -> None:
    settings = _production(make_settings, db)
    with TestClient(make_app(settings), base_url=PRODUCTION_URL) as client:
        assert client.get("/dev/mailbox").status_code == 404
        assert "Dev mailbox" not in client.get("/").text


def test_pages_reread_templates_only_in_development(
    make_settings: Callable[..., Settings], db: Database
) -> None:
    development = make_settings(database_url=db.url)
    production = _production(make_settings, db)
    assert Pages(development, Csrf(development)).env.auto_reload
    assert not Pages(production, Csrf(production)).env.auto_reload
