"""The preferences page's rated papers: listed, removable, and example papers added by arXiv
id, Hugging Face link or title, with unknown ones named."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select

from newsletter.config import Settings
from newsletter.preferences import TopicSpec
from newsletter.store.database import Database
from newsletter.store.models import Paper, PaperVerdict, Subscriber, Verdict
from newsletter.store.subscribers import create_subscriber
from newsletter.store.verdicts import record_verdict
from newsletter.tokens import Purpose, make_token
from tests.web.helpers import csrf_token

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def _setup(db: Database) -> tuple[Subscriber, dict[str, int]]:
    with db.session() as session:
        subscriber = create_subscriber(
            session, "reader@example.org",
            [TopicSpec.build("speech recognition"), TopicSpec.build("robotics")], now=NOW,
        )
        papers = {
            "liked": Paper(source_id="2401.00001", arxiv_id="2401.00001",
                           title="Streaming speech recognition", first_seen_at=NOW,
                           updated_at=NOW, url="https://arxiv.org/abs/2401.00001"),
            "disliked": Paper(source_id="2401.00002", arxiv_id="2401.00002",
                              title="Robot arms that fold laundry", first_seen_at=NOW,
                              updated_at=NOW),
            "hf": Paper(source_id="2401.12345", arxiv_id="2401.12345",
                        title="Self-supervised audio encoders", first_seen_at=NOW,
                        updated_at=NOW),
            "titled": Paper(source_id="title:abc", title="Grasping with Tactile Sensing",
                            first_seen_at=NOW, updated_at=NOW),
        }
        session.add_all(papers.values())
        session.flush()
        ids = {name: paper.id for name, paper in papers.items()}
        record_verdict(session, subscriber.id, ids["liked"], Verdict.LIKE,
                       topic="speech recognition", now=NOW)
        record_verdict(session, subscriber.id, ids["disliked"], Verdict.DISLIKE, topic=None,
                       now=NOW)
        return subscriber, ids


def _rated(db: Database) -> dict[int, tuple[Verdict, str | None]]:
    with db.session() as session:
        return {v.paper_id: (v.verdict, v.topic) for v in session.scalars(select(PaperVerdict))}


def _section(html: str, kind: str) -> str:
    found = re.search(rf'data-rated="{kind}">(.*?)</ul>', html, re.S)
    return found.group(1) if found else ""


def test_rated_papers_are_listed_and_removable(
    client: TestClient, db: Database, web_settings: Settings
) -> None:
    subscriber, ids = _setup(db)
    path = f"/preferences/{make_token(web_settings, Purpose.PREFERENCES, subscriber)}"
    page = client.get(path)
    assert "Streaming speech recognition" in _section(page.text, "liked")
    assert "for “speech recognition”" in _section(page.text, "liked")
    assert "Robot arms that fold laundry" in _section(page.text, "disliked")
    assert "for all your topics" in _section(page.text, "disliked")
    done = client.post(f"{path}/rated/remove",
                       data={"csrf_token": csrf_token(page.text), "paper_id": ids["disliked"]})
    assert done.status_code == 200 and "Removed." in done.text
    assert 'data-rated="disliked"' not in done.text
    assert _rated(db) == {ids["liked"]: (Verdict.LIKE, "speech recognition")}
    export = client.post(f"{path}/export", data={"csrf_token": csrf_token(page.text)})
    [verdict] = json.loads(export.text)["verdicts"]
    assert verdict["paper"]["title"] == "Streaming speech recognition"
    assert (verdict["verdict"], verdict["topic"]) == ("like", "speech recognition")


def test_example_papers_by_id_link_or_title_and_unknown_ones_named(
    client: TestClient, db: Database, web_settings: Settings
) -> None:
    subscriber, ids = _setup(db)
    path = f"/preferences/{make_token(web_settings, Purpose.PREFERENCES, subscriber)}"
    form = csrf_token(client.get(path).text)
    typed = "\n".join([
        "https://huggingface.co/papers/2401.12345",
        "2499.99999",
        "",
        "grasping with tactile sensing",
        "A title nobody wrote",
        "2401.00002v2",  # was disliked: now liked, for robotics
    ])
    page = client.post(f"{path}/examples",
                       data={"csrf_token": form, "examples": typed, "example_topic": "robotics"})
    assert page.status_code == 400
    assert "line 2: “2499.99999”" in page.text and "line 5: “A title nobody wrote”" in page.text
    assert "Added: Self-supervised audio encoders; Grasping with Tactile Sensing" in page.text
    kept = re.search(r'<textarea id="examples"[^>]*>(.*?)</textarea>', page.text, re.S)
    assert kept and kept.group(1) == "2499.99999\nA title nobody wrote"  # nothing typed is lost
    assert _rated(db) == {
        ids["liked"]: (Verdict.LIKE, "speech recognition"),
        ids["hf"]: (Verdict.LIKE, "robotics"),
        ids["titled"]: (Verdict.LIKE, "robotics"),
        ids["disliked"]: (Verdict.LIKE, "robotics"),
    }
    everywhere = client.post(f"{path}/examples",
                             data={"csrf_token": form, "examples": "2401.12345",
                                   "example_topic": ""})
    assert everywhere.status_code == 200
    assert _rated(db)[ids["hf"]] == (Verdict.LIKE, None)


def test_examples_form_errors(client: TestClient, db: Database, web_settings: Settings) -> None:
    subscriber, _ = _setup(db)
    path = f"/preferences/{make_token(web_settings, Purpose.PREFERENCES, subscriber)}"
    form = csrf_token(client.get(path).text)
    before = _rated(db)
    empty = client.post(f"{path}/examples", data={"csrf_token": form, "examples": "  \n"})
    assert empty.status_code == 400 and "Type at least one" in empty.text
    other = client.post(f"{path}/examples", data={"csrf_token": form, "examples": "2401.12345",
                                                  "example_topic": "not mine"})
    assert other.status_code == 400 and "Pick one of your topics" in other.text
    assert client.post(f"{path}/examples", data={"examples": "2401.12345"}).status_code == 403
    assert _rated(db) == before
