"""The pages in a real Chromium, against a real uvicorn server and a real SMTP server,
on SQLite and on PostgreSQL like the rest of the suite."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from newsletter.config import Settings
from newsletter.preferences import TopicSpec
from newsletter.sources.runner import ingest_sample
from newsletter.store.database import Database
from newsletter.store.models import Frequency, SubscriberStatus
from newsletter.store.subscribers import create_subscriber, find_subscriber
from tests.smtp_server import SmtpServer
from tests.web.helpers import bound_socket, link_in, mail_to, serving

pytestmark = pytest.mark.browser
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}


@dataclass
class Live:
    base_url: str
    settings: Settings
    db: Database


@pytest.fixture
def live(
    db: Database, make_settings: Callable[..., Settings], smtp_server: SmtpServer
) -> Iterator[Live]:
    sock = bound_socket()
    settings = make_settings(
        database_url=db.url,
        base_url=f"http://127.0.0.1:{sock.getsockname()[1]}",
        smtp_url=smtp_server.url,
        environment="development",
    )
    ingest_sample(db, now=datetime.now(UTC) - timedelta(hours=1))
    with serving(settings, db, sock):
        yield Live(settings.base_url, settings, db)


@pytest.fixture
def open_page(browser: Any) -> Iterator[Callable[..., Any]]:
    contexts: list[Any] = []

    def make(viewport: dict[str, int] = DESKTOP, **options: Any) -> Any:
        context = browser.new_context(viewport=viewport, **options)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def _status(db: Database, email: str) -> SubscriberStatus | None:
    with db.session() as session:
        subscriber = find_subscriber(session, email)
        return subscriber.status if subscriber else None


def _fill_form(page: Any, email: str) -> None:
    page.get_by_label("Email address").fill(email)
    page.get_by_label("reasoning in language models").check()
    page.get_by_label("LLM agents and tool use").check()
    page.get_by_label("Topic 1 name").fill("Speech")
    page.get_by_label("Topic 1 keywords").fill("speech recognition, text-to-speech")
    page.get_by_label("Topic 1 in a sentence").fill("Machines that listen and talk:\nASR, TTS.")


def test_subscribe_confirm_and_see_the_preview(
    live: Live, open_page: Callable[..., Any], smtp_server: SmtpServer, artifacts_dir: Path
) -> None:
    page = open_page(timezone_id="Asia/Tokyo")
    page.goto(live.base_url)
    assert page.get_by_label("Time zone").input_value() == "Asia/Tokyo"  # from the browser
    page.screenshot(path=artifacts_dir / "subscribe-desktop.png", full_page=True)
    _fill_form(page, "reader@example.org")
    page.get_by_label("Weekly").check()
    page.get_by_label("Send at").select_option("8")
    page.get_by_role("button", name="Subscribe").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()
    with live.db.session() as session:
        row = find_subscriber(session, "reader@example.org")
        assert row is not None
        assert (row.status, row.frequency, row.send_hour, row.timezone) == (
            SubscriberStatus.PENDING,
            Frequency.WEEKLY,
            8,
            "Asia/Tokyo",
        )
        assert [t.label for t in row.topics][-1] == "Speech"
        assert row.topics[-1].description == "Machines that listen and talk: ASR, TTS."

    confirm_url = link_in(mail_to(smtp_server, "reader@example.org")[0], "confirm")
    page.goto(confirm_url)  # what a mail scanner does too: nothing changes
    assert _status(live.db, "reader@example.org") is SubscriberStatus.PENDING
    page.get_by_role("button", name="Confirm my subscription").click()
    page.get_by_role("heading", name="You are subscribed").wait_for()
    assert _status(live.db, "reader@example.org") is SubscriberStatus.ACTIVE
    frame = page.frame_locator("iframe.preview-frame")
    frame.locator("body").wait_for()
    page.screenshot(path=artifacts_dir / "confirmed-desktop.png", full_page=True)
    welcome = mail_to(smtp_server, "reader@example.org", count=2)[1]
    assert link_in(welcome, "preferences")


def test_phone_screenshots_of_the_form_and_the_confirmed_page(
    live: Live, open_page: Callable[..., Any], smtp_server: SmtpServer, artifacts_dir: Path
) -> None:
    page = open_page(PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    page.goto(live.base_url)
    page.screenshot(path=artifacts_dir / "subscribe-phone.png", full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the form must not scroll sideways on a phone"
    _fill_form(page, "phone@example.org")
    page.get_by_role("button", name="Subscribe").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()
    page.goto(link_in(mail_to(smtp_server, "phone@example.org")[0], "confirm"))
    page.get_by_role("button", name="Confirm my subscription").click()
    page.get_by_role("heading", name="You are subscribed").wait_for()
    page.frame_locator("iframe.preview-frame").locator("body").wait_for()
    page.screenshot(path=artifacts_dir / "confirmed-phone.png", full_page=True)


def test_invalid_email_is_shown_beside_the_field(
    live: Live, open_page: Callable[..., Any], artifacts_dir: Path
) -> None:
    page = open_page(PHONE)
    page.goto(live.base_url)
    _fill_form(page, "not an address")
    page.get_by_role("button", name="Subscribe").click()
    error = page.locator("#email-error")
    error.wait_for()
    assert "@-sign" in error.inner_text()
    field = page.get_by_label("Email address")
    assert "email-error" in (field.get_attribute("aria-describedby") or "")
    assert field.get_attribute("aria-invalid") == "true"
    assert field.input_value() == "not an address"
    assert page.get_by_label("Topic 1 keywords").input_value() == (
        "speech recognition, text-to-speech"
    )
    assert page.get_by_label("LLM agents and tool use").is_checked()
    page.screenshot(path=artifacts_dir / "subscribe-error-phone.png", full_page=True)


def test_the_form_works_without_javascript(
    live: Live, open_page: Callable[..., Any], smtp_server: SmtpServer
) -> None:
    page = open_page(java_script_enabled=False, timezone_id="Asia/Tokyo")
    page.goto(live.base_url)
    assert page.get_by_label("Time zone").input_value() == "UTC"  # the server's default
    page.get_by_label("Time zone").select_option("Europe/Berlin")
    _fill_form(page, "nojs@example.org")
    page.get_by_role("button", name="Subscribe").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()
    page.goto(link_in(mail_to(smtp_server, "nojs@example.org")[0], "confirm"))
    page.get_by_role("button", name="Confirm my subscription").click()
    page.get_by_role("heading", name="You are subscribed").wait_for()
    assert _status(live.db, "nojs@example.org") is SubscriberStatus.ACTIVE


def test_keyboard_only_sign_up(
    live: Live, open_page: Callable[..., Any], smtp_server: SmtpServer
) -> None:
    page = open_page()
    page.goto(live.base_url)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Skip to main content"
    page.keyboard.press("Enter")
    for _ in range(6):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "email":
            break
    assert page.evaluate("document.activeElement.id") == "email"
    page.keyboard.type("keys@example.org")
    page.keyboard.press("Tab")  # first topic checkbox (the honeypot is skipped)
    assert page.evaluate("document.activeElement.name") == "topic"
    page.keyboard.press("Space")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    label_outline = page.evaluate(
        "getComputedStyle(document.activeElement.nextElementSibling).outlineStyle"
    )
    assert "solid" in (outline, label_outline)  # a visible focus indicator
    page.get_by_role("button", name="Subscribe").focus()
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Check your inbox").wait_for()
    assert mail_to(smtp_server, "keys@example.org")


def test_preferences_change_and_unsubscribe_by_link(
    live: Live, open_page: Callable[..., Any], smtp_server: SmtpServer, artifacts_dir: Path
) -> None:
    with live.db.session() as session:
        create_subscriber(
            session,
            "member@example.org",
            [TopicSpec.build("reasoning in language models", "chain-of-thought")],
            now=datetime.now(UTC),
        )
    page = open_page(PHONE)
    page.goto(live.base_url)
    page.get_by_label("Email address").fill("member@example.org")
    page.get_by_label("LLM agents and tool use").check()
    page.get_by_role("button", name="Subscribe").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()  # the same page as anyone
    manage = mail_to(smtp_server, "member@example.org")[0]
    assert "/confirm/" not in str(manage)

    page.goto(link_in(manage, "preferences"))
    assert page.get_by_label("reasoning in language models").is_checked()
    page.screenshot(path=artifacts_dir / "preferences-phone.png", full_page=True)
    page.get_by_label("reasoning in language models").uncheck()
    page.get_by_label("LLM agents and tool use").check()
    page.get_by_label("Weekly").check()
    page.get_by_label("Time zone").select_option("America/New_York")
    page.get_by_role("button", name="Save changes").click()
    page.get_by_role("status").filter(has_text="Saved").wait_for()
    with live.db.session() as session:
        row = find_subscriber(session, "member@example.org")
        assert row is not None
        assert [t.label for t in row.topics] == ["LLM agents and tool use"]
        assert (row.frequency, row.timezone) == (Frequency.WEEKLY, "America/New_York")
    changed = mail_to(smtp_server, "member@example.org", count=2)[1]

    page.goto(link_in(changed, "unsubscribe"))
    assert _status(live.db, "member@example.org") is SubscriberStatus.ACTIVE
    page.get_by_role("button", name="Unsubscribe").click()
    page.get_by_role("heading", name="You are unsubscribed").wait_for()
    assert _status(live.db, "member@example.org") is SubscriberStatus.UNSUBSCRIBED


def test_one_click_unsubscribe_over_http(live: Live, smtp_server: SmtpServer) -> None:
    with live.db.session() as session:
        subscriber = create_subscriber(
            session, "oneclick@example.org", [TopicSpec.build("x")], now=datetime.now(UTC)
        )
    from newsletter.tokens import Purpose, link

    url = link(live.settings, Purpose.UNSUBSCRIBE, subscriber)
    for _ in range(2):
        response = httpx.post(
            url,
            content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            follow_redirects=False,
        )
        assert response.status_code == 200
    assert _status(live.db, "oneclick@example.org") is SubscriberStatus.UNSUBSCRIBED
    assert smtp_server.messages_to("oneclick@example.org") == []


def test_dev_mailbox_shows_the_confirmation_and_its_link_works(
    db: Database,
    make_settings: Callable[..., Settings],
    open_page: Callable[..., Any],
    artifacts_dir: Path,
) -> None:
    """Without SMTP, mail lands in the dev mailbox, readable and clickable in the browser."""
    sock = bound_socket()
    settings = make_settings(
        database_url=db.url,
        base_url=f"http://127.0.0.1:{sock.getsockname()[1]}",
        environment="development",
    )
    with serving(settings, db, sock):
        page = open_page()
        page.goto(settings.base_url)
        _fill_form(page, "dev@example.org")
        page.get_by_role("button", name="Subscribe").click()
        page.get_by_role("heading", name="Check your inbox").wait_for()
        page.get_by_role("link", name="Dev mailbox").click()
        page.get_by_role("link", name="Confirm").first.click()
        page.frame_locator("iframe.preview-frame").locator("a").first.wait_for()
        page.screenshot(path=artifacts_dir / "dev-mailbox-message.png", full_page=True)
        page.frame_locator("iframe.preview-frame").get_by_role("link").filter(
            has_text="Confirm"
        ).first.click()
        page.get_by_role("button", name="Confirm my subscription").click()
        page.get_by_role("heading", name="You are subscribed").wait_for()
