"""Abuse and bad input: forged posts, oversized or malicious fields, floods, error pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from newsletter.config import Settings
from newsletter.preferences import TopicSpec
from newsletter.store.database import Database
from newsletter.store.models import Subscriber
from newsletter.store.subscribers import create_subscriber
from newsletter.tokens import Purpose, make_token
from newsletter.web.security import CSRF_COOKIE
from tests.smtp_server import SmtpServer
from tests.web.helpers import csrf_token, mail_to, subscribe, subscribe_fields

HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin",
    "x-frame-options": "DENY",
}


def _count(db: Database) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Subscriber)) or 0)


def _assert_secure_headers(headers: object) -> None:
    for name, value in HEADERS.items():
        assert headers[name] == value  # type: ignore[index]
    csp = headers["content-security-policy"]  # type: ignore[index]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


# --- forged posts -----------------------------------------------------------------------------
def test_post_without_a_csrf_token_is_refused_with_a_helpful_page(
    client: TestClient, db: Database
) -> None:
    client.get("/")
    response = client.post("/subscribe", data=subscribe_fields("a@example.org"))
    assert response.status_code == 403
    assert "reload the page" in response.text
    assert _count(db) == 0


def test_post_with_a_forged_token_is_refused(client: TestClient, db: Database) -> None:
    client.get("/")
    fields = subscribe_fields("a@example.org", csrf_token="forged.token.value")
    assert client.post("/subscribe", data=fields).status_code == 403
    assert _count(db) == 0


def test_token_from_another_browser_is_refused(
    app: FastAPI, client: TestClient, db: Database
) -> None:
    token = csrf_token(client.get("/").text)
    with TestClient(app, base_url="http://testserver") as other:
        other.get("/")  # has its own cookie
        fields = subscribe_fields("a@example.org", csrf_token=token)
        assert other.post("/subscribe", data=fields).status_code == 403
    assert _count(db) == 0


def test_post_without_the_cookie_is_refused(app: FastAPI, client: TestClient) -> None:
    token = csrf_token(client.get("/").text)
    client.cookies.delete(CSRF_COOKIE)
    response = client.post("/subscribe", data=subscribe_fields("a@example.org", csrf_token=token))
    assert response.status_code == 403
    assert "cookies" in response.text


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "https://evil.example"}, {"Origin": "null"}, {"Referer": "https://evil.example/x"}],
)
def test_post_from_a_foreign_origin_is_refused_even_with_a_good_token(
    client: TestClient, db: Database, headers: dict[str, str]
) -> None:
    token = csrf_token(client.get("/").text)
    fields = subscribe_fields("a@example.org", csrf_token=token)
    response = client.post("/subscribe", data=fields, headers=headers)
    assert response.status_code == 403
    assert "another website" in response.text
    assert _count(db) == 0


def test_post_from_our_own_origin_is_accepted(client: TestClient, db: Database) -> None:
    token = csrf_token(client.get("/").text)
    fields = subscribe_fields("a@example.org", csrf_token=token)
    response = client.post("/subscribe", data=fields, headers={"Origin": "http://testserver"})
    assert response.status_code == 200
    assert _count(db) == 1


def test_preferences_post_needs_the_csrf_token(
    client: TestClient, db: Database, web_settings: Settings
) -> None:
    with db.session() as session:
        subscriber = create_subscriber(
            session, "m@example.org", [TopicSpec.build("x")], now=datetime.now(UTC)
        )
    path = f"/preferences/{make_token(web_settings, Purpose.PREFERENCES, subscriber)}"
    client.get(path)
    for target in (path, f"{path}/export", f"{path}/delete"):
        assert client.post(target, data={"confirm_delete": "yes"}).status_code == 403
    assert _count(db) == 1


# --- oversized and malicious fields -----------------------------------------------------------
def test_oversized_body_gets_413(client: TestClient) -> None:
    token = csrf_token(client.get("/").text)
    fields = subscribe_fields("a@example.org", csrf_token=token, custom_keywords_0="k," * 40_000)
    response = client.post("/subscribe", data=fields)
    assert response.status_code == 413
    assert "shorten" in response.text
    _assert_secure_headers(response.headers)


@pytest.mark.parametrize(
    ("field", "value", "error_id"),
    [
        ("email", "a" * 400 + "@example.org", "email-error"),
        ("custom_label_0", "L" * 300, "custom_0-error"),
        ("custom_keywords_0", "k" * 2500, "custom_0-error"),
        ("custom_description_0", "d" * 1200, "custom_0-error"),
        ("timezone", "Europe/" + "x" * 100, "timezone-error"),
    ],
)
def test_oversized_fields_get_400_with_a_message(
    client: TestClient, field: str, value: str, error_id: str
) -> None:
    fields = {"email": "a@example.org", field: value}
    response = subscribe(client, fields.pop("email"), **fields)
    assert response.status_code == 400
    assert f'id="{error_id}"' in response.text


INJECTIONS = [
    {"email": "victim@example.org\r\nBcc: target@evil.example"},
    {"email": "victim@example.org\nSubject: hi"},
    {"custom_label_0": "Speech\r\nBcc: target@evil.example", "custom_keywords_0": "asr"},
    {"custom_label_0": "Speech", "custom_keywords_0": "asr\r\nX-Injected: yes"},
    {"custom_label_0": "Speech\u2028X-Injected: yes", "custom_keywords_0": "asr"},
    {"custom_label_0": "Speech\u0085X-Injected: yes", "custom_keywords_0": "tts\x0bX-Injected: 1"},
]


@pytest.mark.parametrize("fields", INJECTIONS)
def test_header_injection_never_reaches_a_message_header(
    client: TestClient, smtp_server: SmtpServer, fields: dict[str, str]
) -> None:
    email = fields.get("email", "victim@example.org")
    overrides = {k: v for k, v in fields.items() if k != "email"}
    response = subscribe(client, email, **overrides)
    assert response.status_code in (200, 400)
    for received in smtp_server.received:
        assert received.rcpt_tos == ["victim@example.org"]
        head = received.raw.split(b"\r\n\r\n", 1)[0]
        assert b"evil.example" not in head
        assert b"X-Injected" not in head
        assert not any(line.startswith(b"Bcc") for line in head.split(b"\r\n"))
        message = received.message
        assert "X-Injected" not in message and "Bcc" not in message


def test_injected_labels_show_only_as_text_in_the_body(
    client: TestClient, smtp_server: SmtpServer
) -> None:
    response = subscribe(
        client, "victim@example.org", custom_label_0="<script>alert(1)</script> Speech",
        custom_keywords_0="asr",
    )
    assert response.status_code == 200
    [message] = mail_to(smtp_server, "victim@example.org")
    html = message.get_body(preferencelist=("html",))
    assert html is not None
    assert "<script>" not in html.get_content()


def test_multipart_uploads_are_refused(client: TestClient) -> None:
    token = csrf_token(client.get("/").text)
    response = client.post(
        "/subscribe",
        data={"csrf_token": token, "email": "a@example.org"},
        files={"upload": ("x.txt", b"hello", "text/plain")},
    )
    assert response.status_code == 400


# --- floods -----------------------------------------------------------------------------------
def test_per_client_rate_limit(
    make_app: Callable[..., FastAPI], make_settings: Callable[..., Settings], db: Database,
    smtp_server: SmtpServer,
) -> None:
    settings = make_settings(
        database_url=db.url, base_url="http://testserver", smtp_url=smtp_server.url,
        subscribe_rate_limit_per_minute=3,
    )
    with TestClient(make_app(settings), base_url="http://testserver") as client:
        codes = [subscribe(client, f"user{i}@example.org").status_code for i in range(5)]
        assert codes == [200, 200, 200, 429, 429]
        limited = subscribe(client, "late@example.org")
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) > 0
        assert "wait a minute" in limited.text
    assert _count(db) == 3


# --- error pages and headers ------------------------------------------------------------------
def test_every_page_has_the_security_headers(client: TestClient) -> None:
    for path in ("/", "/healthz", "/no-such-page", "/confirm/bad", "/static/style.css"):
        response = client.get(path)
        _assert_secure_headers(response.headers)
    assert client.get("/").headers["cache-control"] == "no-store"


def test_404_is_our_page(client: TestClient) -> None:
    response = client.get("/wp-admin.php")
    assert response.status_code == 404
    assert "Page not found" in response.text and '<html lang="en">' in response.text


def test_405_is_our_page(client: TestClient) -> None:
    response = client.delete("/")
    assert response.status_code == 405
    assert '<html lang="en">' in response.text


def test_a_crash_shows_our_500_page_without_a_trace(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret internals: password=hunter2")

    monkeypatch.setattr("newsletter.web.trending.trending_papers", explode)
    response = client.get("/")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.text
    assert "hunter2" not in response.text and "Traceback" not in response.text
    _assert_secure_headers(response.headers)
