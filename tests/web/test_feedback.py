"""The "More like this" / "Not for me" pages: a GET records nothing, the post records once,
undo removes, bad links get a page saying what to do."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from newsletter.config import Settings
from newsletter.preferences import TopicSpec
from newsletter.store.database import Database
from newsletter.store.models import (
    Delivery,
    Edition,
    Frequency,
    Paper,
    PaperVerdict,
    Subscriber,
    Verdict,
)
from newsletter.store.subscribers import create_subscriber
from newsletter.tokens import FeedbackLinks, feedback_check
from newsletter.web.accounts import erase
from tests.web.helpers import csrf_token

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def _setup(db: Database, email: str = "reader@example.org") -> tuple[int, int]:
    """A subscriber who got one digest holding one paper, picked for "speech recognition"."""
    with db.session() as session:
        subscriber = create_subscriber(
            session, email, [TopicSpec.build("speech recognition"), TopicSpec.build("robotics")],
            now=NOW,
        )
        paper = Paper(source_id=f"p-{email}", title="Streaming  speech recognition",
                      abstract="A.", first_seen_at=NOW, updated_at=NOW)
        session.add(paper)
        edition = session.scalar(select(Edition)) or Edition(
            frequency=Frequency.DAILY, issue_date=NOW.date(), created_at=NOW)
        session.add(edition)
        session.flush()
        session.add(Delivery(edition_id=edition.id, subscriber_id=subscriber.id,
                             paper_ids=[paper.id], created_at=NOW,
                             reasons={"mode": "match", "why": ["w"],
                                      "topics": ["speech recognition"]}))
        return subscriber.id, paper.id


def _link(db: Database, settings: Settings, subscriber_id: int, paper_id: int,
          kind: str = "more-like-this") -> str:
    with db.session() as session:
        nonce = session.get_one(Subscriber, subscriber_id).token_nonce
    token = FeedbackLinks(settings).token(subscriber_id, paper_id, feedback_check(nonce))
    return f"/{kind}/{token}"


def _verdicts(db: Database) -> list[tuple[int, int, Verdict, str | None]]:
    with db.session() as session:
        return [
            (v.subscriber_id, v.paper_id, v.verdict, v.topic)
            for v in session.scalars(select(PaperVerdict).order_by(PaperVerdict.id))
        ]


def test_get_shows_the_paper_and_records_nothing(
    client: TestClient, db: Database, web_settings: Settings
) -> None:
    who, paper = _setup(db)
    path = _link(db, web_settings, who, paper)
    for _ in range(3):  # scanners fetch links, sometimes several times
        page = client.get(path)
        assert page.status_code == 200
        assert "Streaming speech recognition" in page.text
        assert 'data-feedback-autosend' in page.text and "/static/feedback.js" in page.text
        assert page.text.count('type="submit"') == 1
    assert _verdicts(db) == []


def test_post_records_once_under_the_digest_topic_and_undo_removes(
    client: TestClient, db: Database, web_settings: Settings
) -> None:
    who, paper = _setup(db)
    path = _link(db, web_settings, who, paper)
    token = csrf_token(client.get(path).text)
    for _ in range(2):
        done = client.post(path, data={"csrf_token": token})
        assert done.status_code == 200
        assert "Got it: more like <em>Streaming speech recognition</em>" in done.text
        assert "speech recognition" in done.text and "/undo" in done.text
    assert _verdicts(db) == [(who, paper, Verdict.LIKE, "speech recognition")]
    less = _link(db, web_settings, who, paper, "not-for-me")
    assert "fewer like" in client.post(less, data={"csrf_token": token}).text
    assert _verdicts(db) == [(who, paper, Verdict.DISLIKE, "speech recognition")]
    undone = client.post(f"{less}/undo", data={"csrf_token": token})
    assert undone.status_code == 200 and "Undone" in undone.text
    assert _verdicts(db) == []
    assert client.post(f"{less}/undo", data={"csrf_token": token}).status_code == 200


def test_posts_need_the_form_token_and_our_origin(
    client: TestClient, db: Database, web_settings: Settings
) -> None:
    who, paper = _setup(db)
    path = _link(db, web_settings, who, paper)
    token = csrf_token(client.get(path).text)
    assert client.post(path, data={}).status_code == 403
    forged = client.post(path, data={"csrf_token": token},
                         headers={"Origin": "https://evil.example"})
    assert forged.status_code == 403
    assert client.post(f"{path}/undo", data={}).status_code == 403
    assert _verdicts(db) == []


def test_altered_links_get_a_400_page_that_says_what_to_do(
    client: TestClient, db: Database, web_settings: Settings
) -> None:
    who, paper = _setup(db)
    other, _ = _setup(db, "other@example.org")
    path = _link(db, web_settings, who, paper)
    prefix, _, token = path.rpartition("/")
    form = csrf_token(client.get(path).text)
    forged = [
        token.replace(f"{who}.{paper}.", f"{other}.{paper}.", 1),  # another subscriber
        token.replace(f"{who}.{paper}.", f"{who}.{paper + 1}.", 1),  # another paper
        token[:-3],
        "x" * 500,
    ]
    for bad in forged:
        page = client.get(f"{prefix}/{bad}")
        assert page.status_code == 400, bad
        assert "Open the link straight from the email" in page.text
        page = client.post(f"{prefix}/{bad}", data={"csrf_token": form})
        assert page.status_code == 400
    assert _verdicts(db) == []


def test_links_die_with_the_nonce_the_subscriber_or_the_paper(
    client: TestClient, db: Database, web_settings: Settings
) -> None:
    who, paper = _setup(db)
    path = _link(db, web_settings, who, paper)
    with db.session() as session:
        session.execute(update(Subscriber).values(token_nonce="rotated"))
    page = client.get(path)
    assert page.status_code == 404 and "newest digest" in page.text
    path = _link(db, web_settings, who, paper)
    assert client.get(path).status_code == 200
    with db.session() as session:
        session.delete(session.get_one(Paper, paper))
    page = client.get(path)
    assert page.status_code == 404 and "no longer in our list" in page.text
    erase(db, who)
    assert client.get(path).status_code == 404
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(PaperVerdict)) == 0
