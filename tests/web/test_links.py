"""The links in our emails: confirm (single use, expiring), preferences, unsubscribe."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from newsletter.config import Settings
from newsletter.preferences import TopicSpec
from newsletter.store.database import Database
from newsletter.store.models import (
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Edition,
    Frequency,
    InboundKind,
    InboundMessage,
    Subscriber,
    SubscriberStatus,
    Topic,
)
from newsletter.store.subscribers import create_subscriber, find_subscriber
from newsletter.tokens import Purpose, make_token
from tests.smtp_server import SmtpServer
from tests.web.helpers import Clock, csrf_token, link_in, mail_to, path_of, subscribe


def _status(db: Database, email: str) -> SubscriberStatus:
    with db.session() as session:
        subscriber = find_subscriber(session, email)
        assert subscriber is not None
        return subscriber.status


def _confirm_path(client: TestClient, smtp: SmtpServer, email: str) -> str:
    subscribe(client, email)
    return path_of(link_in(mail_to(smtp, email)[-1], "confirm"))


def _active(db: Database, email: str = "member@example.org") -> Subscriber:
    with db.session() as session:
        return create_subscriber(
            session,
            email,
            [TopicSpec.build("reasoning in language models", "chain-of-thought")],
            now=datetime.now(UTC),
        )


# --- confirm ----------------------------------------------------------------------------------
def test_confirm_get_shows_a_button_and_changes_nothing(
    client: TestClient, db: Database, smtp_server: SmtpServer
) -> None:
    path = _confirm_path(client, smtp_server, "new@example.org")
    for _ in range(3):  # link scanners may fetch it several times
        page = client.get(path)
        assert page.status_code == 200
        assert page.text.count('type="submit"') == 1
        assert "Confirm my subscription" in page.text
    assert _status(db, "new@example.org") is SubscriberStatus.PENDING


def test_confirm_post_activates_once_and_sends_the_welcome_email(
    client: TestClient, db: Database, smtp_server: SmtpServer
) -> None:
    path = _confirm_path(client, smtp_server, "new@example.org")
    page = client.get(path)
    done = client.post(path, data={"csrf_token": csrf_token(page.text)})
    assert done.status_code == 200
    assert "You are subscribed" in done.text
    assert "/preview" in done.text and "<iframe" in done.text
    assert _status(db, "new@example.org") is SubscriberStatus.ACTIVE
    welcome = mail_to(smtp_server, "new@example.org", count=2)[-1]
    assert link_in(welcome, "preferences") and link_in(welcome, "unsubscribe")
    # Single use: the nonce rotated, so the same link is now refused.
    again = client.post(path, data={"csrf_token": csrf_token(page.text)})
    assert again.status_code == 410
    assert "already used" in again.text
    assert client.get(path).status_code == 410


def test_confirm_post_needs_the_form_token(
    client: TestClient, db: Database, smtp_server: SmtpServer
) -> None:
    path = _confirm_path(client, smtp_server, "new@example.org")
    assert client.post(path, data={}).status_code == 403
    assert _status(db, "new@example.org") is SubscriberStatus.PENDING


def test_expired_confirm_link_says_to_subscribe_again(
    client: TestClient, db: Database, smtp_server: SmtpServer, clock: Clock
) -> None:
    path = _confirm_path(client, smtp_server, "late@example.org")
    clock.advance(hours=49)
    page = client.get(path)
    assert page.status_code == 410
    assert "expired" in page.text and "Subscribe again" in page.text
    assert "Traceback" not in page.text


@pytest.mark.parametrize("purpose", ["confirm", "preferences", "unsubscribe"])
def test_tampered_links_get_a_clear_400_page(
    client: TestClient, db: Database, web_settings: Settings, purpose: str
) -> None:
    subscriber = _active(db)
    token = make_token(web_settings, Purpose(purpose), subscriber)
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    for path in (f"/{purpose}/{tampered}", f"/{purpose}/nonsense", f"/{purpose}/{'x' * 5000}"):
        page = client.get(path)
        assert page.status_code == 400, path
        assert "This link is not valid" in page.text
        assert "copy the whole of it" in page.text


def test_links_of_an_erased_subscriber_say_so(
    client: TestClient, db: Database, web_settings: Settings
) -> None:
    subscriber = _active(db)
    token = make_token(web_settings, Purpose.PREFERENCES, subscriber)
    with db.session() as session:
        session.delete(session.get(Subscriber, subscriber.id))
    page = client.get(f"/preferences/{token}")
    assert page.status_code == 404
    assert "no longer works" in page.text


# --- preferences ------------------------------------------------------------------------------
def _preferences(client: TestClient, web_settings: Settings, subscriber: Subscriber) -> str:
    return f"/preferences/{make_token(web_settings, Purpose.PREFERENCES, subscriber)}"


def test_preferences_page_shows_current_choices(
    client: TestClient, db: Database, web_settings: Settings
) -> None:
    subscriber = _active(db)
    page = client.get(_preferences(client, web_settings, subscriber))
    assert page.status_code == 200
    assert "member@example.org" in page.text
    assert re.search(r'value="reasoning" id="topic-reasoning"[^>]*checked', page.text)
    assert not re.search(r'value="agents" id="topic-agents"[^>]*checked', page.text)


def test_preferences_change_is_saved_and_confirmed_by_email(
    client: TestClient, db: Database, web_settings: Settings, smtp_server: SmtpServer
) -> None:
    subscriber = _active(db)
    path = _preferences(client, web_settings, subscriber)
    page = client.get(path)
    saved = client.post(
        path,
        data={
            "csrf_token": csrf_token(page.text),
            "topic": ["agents"],
            "custom_label_0": "Speech",
            "custom_keywords_0": "ASR, text-to-speech",
            "frequency": "weekly",
            "send_hour": "18",
            "timezone": "America/New_York",
        },
    )
    assert saved.status_code == 200
    assert "Saved" in saved.text
    with db.session() as session:
        row = find_subscriber(session, "member@example.org")
        assert row is not None
        assert [t.label for t in row.topics] == ["LLM agents and tool use", "Speech"]
        assert row.topics[1].keywords == ["ASR", "text-to-speech"]
        assert (row.frequency, row.send_hour, row.timezone) == (
            Frequency.WEEKLY,
            18,
            "America/New_York",
        )
    [message] = mail_to(smtp_server, "member@example.org")
    assert link_in(message, "preferences")


def test_preferences_show_an_own_topics_description_and_edit_it(
    client: TestClient, db: Database, web_settings: Settings
) -> None:
    with db.session() as session:
        subscriber = create_subscriber(
            session,
            "member@example.org",
            [TopicSpec.build("Speech", "ASR", description="Speech recognition and synthesis.")],
            now=datetime.now(UTC),
        )
    path = _preferences(client, web_settings, subscriber)
    page = client.get(path)
    assert ">Speech recognition and synthesis.</textarea>" in page.text
    fields = {"csrf_token": csrf_token(page.text), "frequency": "daily", "send_hour": "7",
              "timezone": "UTC", "custom_label_0": "Speech", "custom_keywords_0": "ASR"}
    for typed, stored in (("Spoken language, end to end.", "Spoken language, end to end."),
                          ("", "")):
        saved = client.post(path, data={**fields, "custom_description_0": typed})
        assert saved.status_code == 200
        with db.session() as session:
            row = find_subscriber(session, "member@example.org")
            assert row is not None
            assert [(t.label, t.description) for t in row.topics] == [("Speech", stored)]


def test_preferences_errors_keep_the_form(
    client: TestClient, db: Database, web_settings: Settings
) -> None:
    path = _preferences(client, web_settings, _active(db))
    page = client.get(path)
    bad = client.post(
        path,
        data={"csrf_token": csrf_token(page.text), "frequency": "daily", "send_hour": "7",
              "timezone": "UTC", "custom_label_0": "x" * 300},
    )
    assert bad.status_code == 400
    assert 'id="custom_0-error"' in bad.text


def _delivered(db: Database, subscriber: Subscriber, now: datetime, **fields: Any) -> None:
    """Today's daily edition with one delivery to ``subscriber``."""
    with db.session() as session:
        edition = Edition(frequency=Frequency.DAILY, issue_date=now.date(), created_at=now)
        session.add(edition)
        session.flush()
        session.add(
            Delivery(edition_id=edition.id, subscriber_id=subscriber.id, created_at=now, **fields)
        )


def test_download_my_data(
    client: TestClient, db: Database, web_settings: Settings
) -> None:
    subscriber = _active(db)
    now = datetime.now(UTC)
    _delivered(db, subscriber, now, status=DeliveryStatus.SENT, paper_ids=[3, 5], sent_at=now)
    with db.session() as session:  # an account email and a bounce that came back
        session.add(Delivery(subscriber_id=subscriber.id, kind=DeliveryKind.WELCOME,
                             status=DeliveryStatus.SENT, created_at=now, sent_at=now))
        session.add(InboundMessage(fingerprint="f" * 64, received_at=now, source="lmtp",
                                   kind=InboundKind.SOFT_BOUNCE, subscriber_id=subscriber.id,
                                   status="4.2.2", detail="mailbox full"))
    path = _preferences(client, web_settings, subscriber)
    page = client.get(path)
    download = client.post(f"{path}/export", data={"csrf_token": csrf_token(page.text)})
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("application/json")
    assert "attachment" in download.headers["content-disposition"]
    data = json.loads(download.text)
    assert data["subscriber"]["email"] == "member@example.org"
    assert "token_nonce" not in data["subscriber"]
    assert data["topics"][0]["label"] == "reasoning in language models"
    [delivery] = [d for d in data["deliveries"] if d["kind"] == "digest"]
    assert delivery["paper_ids"] == [3, 5]
    assert delivery["edition"]["issue_date"] == now.date().isoformat()
    assert delivery["sent_at"]
    [notice] = [d for d in data["deliveries"] if d["kind"] != "digest"]
    assert (notice["kind"], notice["edition"]) == ("welcome", None)
    [bounce] = data["inbound"]
    assert (bounce["kind"], bounce["source"], bounce["status"]) == ("soft_bounce", "lmtp", "4.2.2")


def test_delete_me_erases_the_subscriber_topics_and_deliveries(
    client: TestClient, db: Database, web_settings: Settings
) -> None:
    subscriber = _active(db)
    now = datetime.now(UTC)
    _delivered(db, subscriber, now)
    path = _preferences(client, web_settings, subscriber)
    page = client.get(path)
    unticked = client.post(f"{path}/delete", data={"csrf_token": csrf_token(page.text)})
    assert unticked.status_code == 400 and 'id="confirm_delete-error"' in unticked.text
    gone = client.post(
        f"{path}/delete", data={"csrf_token": csrf_token(page.text), "confirm_delete": "yes"}
    )
    assert gone.status_code == 200 and "erased" in gone.text
    with db.session() as session:
        for model in (Subscriber, Topic, Delivery):
            assert session.scalar(select(func.count()).select_from(model)) == 0
    assert client.get(path).status_code == 404


# --- unsubscribe ------------------------------------------------------------------------------
def _pending_delivery(db: Database, subscriber_id: int) -> None:
    now = datetime.now(UTC)
    with db.session() as session:
        edition = Edition(frequency=Frequency.DAILY, issue_date=now.date(), created_at=now)
        session.add(edition)
        session.flush()
        session.add(
            Delivery(
                edition_id=edition.id,
                subscriber_id=subscriber_id,
                status=DeliveryStatus.PENDING,
                created_at=now,
                next_attempt_at=now + timedelta(hours=1),
            )
        )


def test_unsubscribe_get_changes_nothing_and_the_button_unsubscribes(
    client: TestClient, db: Database, web_settings: Settings, smtp_server: SmtpServer
) -> None:
    subscriber = _active(db)
    _pending_delivery(db, subscriber.id)
    path = f"/unsubscribe/{make_token(web_settings, Purpose.UNSUBSCRIBE, subscriber)}"
    page = client.get(path)
    assert page.status_code == 200 and page.text.count('type="submit"') == 1
    assert _status(db, "member@example.org") is SubscriberStatus.ACTIVE
    done = client.post(path, data={})
    assert done.status_code == 200 and "You are unsubscribed" in done.text
    assert _status(db, "member@example.org") is SubscriberStatus.UNSUBSCRIBED
    with db.session() as session:
        assert session.scalar(select(Delivery.status)) is DeliveryStatus.SUPPRESSED
    assert smtp_server.messages_to("member@example.org") == []  # like listmonk: no email


def test_one_click_unsubscribe_needs_no_cookie_and_is_idempotent(
    app: object, db: Database, web_settings: Settings
) -> None:
    subscriber = _active(db)
    path = f"/unsubscribe/{make_token(web_settings, Purpose.UNSUBSCRIBE, subscriber)}"
    with TestClient(app, base_url="http://testserver") as fresh:  # type: ignore[arg-type]
        for _ in range(2):
            response = fresh.post(
                path,
                content=b"List-Unsubscribe=One-Click",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                follow_redirects=False,
            )
            assert response.status_code == 200
            assert "location" not in response.headers
    with db.session() as session:
        row = session.get(Subscriber, subscriber.id)
        assert row is not None and row.status is SubscriberStatus.UNSUBSCRIBED
        first = row.unsubscribed_at
    assert first is not None


def test_one_click_for_an_erased_subscriber_still_answers_200(
    client: TestClient, db: Database, web_settings: Settings
) -> None:
    subscriber = _active(db)
    path = f"/unsubscribe/{make_token(web_settings, Purpose.UNSUBSCRIBE, subscriber)}"
    with db.session() as session:
        session.delete(session.get(Subscriber, subscriber.id))
    response = client.post(path, content=b"List-Unsubscribe=One-Click")
    assert response.status_code == 200


def test_forged_unsubscribe_token_is_refused(client: TestClient) -> None:
    response = client.post("/unsubscribe/abc.def.ghi", content=b"List-Unsubscribe=One-Click")
    assert response.status_code == 400
