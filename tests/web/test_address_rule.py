"""The form and the message builder apply one address rule: the form refuses what the builder
could not send, and what it accepts arrives, on the envelope exactly as stored."""

from __future__ import annotations

import html

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from newsletter.store.database import Database
from newsletter.store.models import Subscriber
from tests.smtp_server import SmtpServer
from tests.web.helpers import error_message, mail_to, subscribe


def test_a_non_ascii_local_part_is_refused_by_the_form_with_a_reason(
    client: TestClient, db: Database, smtp_server: SmtpServer
) -> None:
    response = subscribe(client, "josé@exämple.org")
    assert response.status_code == 400
    error = error_message(response.text, "email")
    assert error is not None
    reason = html.unescape(error)
    assert "part before the @ has only plain letters, digits and punctuation" in reason
    assert "'é'" in reason
    assert "check your inbox" not in response.text.lower()
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Subscriber)) == 0
    assert smtp_server.received == []


def test_an_international_domain_is_stored_and_sent_as_idna(
    client: TestClient, db: Database, smtp_server: SmtpServer
) -> None:
    response = subscribe(client, "Jose@Exämple.org")
    assert response.status_code == 200, response.text
    with db.session() as session:
        emails = list(session.scalars(select(Subscriber.email)))
    assert emails == ["jose@xn--exmple-cua.org"]
    (message,) = mail_to(smtp_server, "jose@xn--exmple-cua.org")
    assert message["To"] == "jose@xn--exmple-cua.org"
    (received,) = smtp_server.received
    assert received.rcpt_tos == ["jose@xn--exmple-cua.org"]
