""""More like this" / "Not for me": the links under every paper of a digest.

Mail scanners fetch every link in a message, so a GET only shows a small page; its script posts
the verdict at once (with the CSRF token and the Origin check every form here has), and a
plain button does the same when script is off. The confirmation offers Undo, a post that
removes the verdict. The signed token names the subscriber and the paper; the topic the
verdict is filed under comes from the digest that carried the paper.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse

from newsletter.store.database import Database
from newsletter.store.models import Paper, Subscriber, Verdict
from newsletter.store.verdicts import (
    record_verdict,
    topic_given_for,
    verdict_on,
    withdraw_verdict,
)
from newsletter.tokens import (
    MORE_LIKE_THIS,
    NOT_FOR_ME,
    FeedbackClaims,
    FeedbackLinks,
    InvalidToken,
    Purpose,
    feedback_matches,
    make_token,
)
from newsletter.web.pages import PageError, Problem
from newsletter.web.routes.common import MAX_TOKEN, guarded_form, invalid_link
from newsletter.web.state import Web, WebDep

router = APIRouter()

VERDICTS = {MORE_LIKE_THIS: Verdict.LIKE, NOT_FOR_ME: Verdict.DISLIKE}


@dataclass(frozen=True)
class Judging:
    """What the pages show: who, which paper, what they said before."""

    subscriber: Subscriber
    paper_id: int
    title: str
    url: str | None
    current: Verdict | None
    topic: str | None


def _claims(web: Web, token: str) -> FeedbackClaims:
    if len(token) > MAX_TOKEN:
        raise PageError(invalid_link())
    try:
        return FeedbackLinks(web.settings).read(token)
    except InvalidToken:
        raise PageError(invalid_link()) from None


def _gone() -> Problem:
    return Problem(
        404,
        "This link no longer works",
        "The subscription it belonged to no longer exists, or was renewed since this email "
        "was sent (links in older emails stop working then).",
        "Use the links in your newest digest, or subscribe again on the home page.",
        "/",
        "Subscribe again",
    )


def _paper_gone() -> Problem:
    return Problem(
        404,
        "This paper is no longer in our list",
        "Papers are removed after a while, and this one is gone, so there is nothing to rate.",
        "Use the links under a paper of a more recent digest.",
    )


def _load(db: Database, claims: FeedbackClaims) -> Judging:
    with db.session() as session:
        subscriber = session.get(Subscriber, claims.subscriber_id)
        if not feedback_matches(claims, subscriber):
            raise PageError(_gone())
        assert subscriber is not None
        paper = session.get(Paper, claims.paper_id)
        if paper is None:
            raise PageError(_paper_gone())
        return Judging(
            subscriber,
            paper.id,
            " ".join(paper.title.split()),
            paper.url,
            verdict_on(session, subscriber.id, paper.id),
            topic_given_for(session, subscriber.id, paper.id),
        )


def _judge(db: Database, claims: FeedbackClaims, verdict: Verdict, now: datetime) -> Judging:
    judging = _load(db, claims)
    with db.session() as session:
        record_verdict(session, judging.subscriber.id, judging.paper_id, verdict,
                       topic=judging.topic, now=now)
    return Judging(judging.subscriber, judging.paper_id, judging.title, judging.url, verdict,
                   judging.topic)


def _undo(db: Database, claims: FeedbackClaims) -> Judging:
    judging = _load(db, claims)
    with db.session() as session:
        withdraw_verdict(session, judging.subscriber.id, judging.paper_id)
    return Judging(judging.subscriber, judging.paper_id, judging.title, judging.url, None,
                   judging.topic)


def _kind(request: Request) -> str:
    """Which of the two links this is: the first segment of the route's path."""
    return str(request.scope["route"].path.split("/")[1])


def _render(
    request: Request, web: Web, template: str, kind: str, token: str, judging: Judging,
    *, undone: bool = False,
) -> HTMLResponse:
    preferences = make_token(web.settings, Purpose.PREFERENCES, judging.subscriber)
    context = {
        "kind": kind,
        "verdict": VERDICTS[kind].value,
        "action": f"/{kind}/{token}",
        "title": judging.title,
        "url": judging.url,
        "current": judging.current.value if judging.current else None,
        "topic": judging.topic,
        "undone": undone,
        "preferences_path": f"/preferences/{preferences}",
    }
    return web.pages.render(request, template, context)


async def feedback_page(request: Request, token: str, web: WebDep) -> HTMLResponse:
    """Records nothing: the page's script (or its button) posts the verdict."""
    kind = _kind(request)
    judging = await run_in_threadpool(_load, web.db, _claims(web, token))
    return _render(request, web, "feedback.html", kind, token, judging)


async def feedback_post(request: Request, token: str, web: WebDep) -> HTMLResponse:
    kind = _kind(request)
    await guarded_form(request, web)
    claims = _claims(web, token)
    judging = await run_in_threadpool(_judge, web.db, claims, VERDICTS[kind], web.now())
    return _render(request, web, "feedback_done.html", kind, token, judging)


async def feedback_undo(request: Request, token: str, web: WebDep) -> HTMLResponse:
    kind = _kind(request)
    await guarded_form(request, web)
    judging = await run_in_threadpool(_undo, web.db, _claims(web, token))
    return _render(request, web, "feedback_done.html", kind, token, judging, undone=True)


for _path in VERDICTS:
    router.add_api_route(f"/{_path}/{{token}}", feedback_page, methods=["GET"],
                         response_class=HTMLResponse)
    router.add_api_route(f"/{_path}/{{token}}", feedback_post, methods=["POST"],
                         response_class=HTMLResponse)
    router.add_api_route(f"/{_path}/{{token}}/undo", feedback_undo, methods=["POST"],
                         response_class=HTMLResponse)
