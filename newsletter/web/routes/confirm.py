"""Double opt-in: the link in the email opens a page with one button; only the button confirms.

Mail scanners fetch every link they see, so the GET must change nothing. The POST activates the
subscription once (the confirm nonce rotates), queues the welcome email and shows a preview of
the digest the person would have received today.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse

from newsletter.scheduler.jobs import queue_first_digest
from newsletter.tokens import Purpose, make_token
from newsletter.web.accounts import LinkError, confirm
from newsletter.web.pages import PageError
from newsletter.web.routes.common import guarded_form, link_problem, linked_subscriber, read_link
from newsletter.web.state import Web, WebDep

router = APIRouter()
log = logging.getLogger(__name__)


@router.get("/confirm/{token}", response_class=HTMLResponse)
async def confirm_page(request: Request, token: str, web: WebDep) -> HTMLResponse:
    _, subscriber = await linked_subscriber(web, Purpose.CONFIRM, token)
    context = {"email": subscriber.email, "topics": [t.label for t in subscriber.topics]}
    return web.pages.render(request, "confirm.html", context)


@router.post("/confirm/{token}", response_class=HTMLResponse)
async def confirm_post(request: Request, token: str, web: WebDep) -> HTMLResponse:
    await guarded_form(request, web)
    claims = read_link(web, Purpose.CONFIRM, token)
    try:
        subscriber = await run_in_threadpool(confirm, web.db, claims, now=web.now())
    except LinkError as exc:
        raise PageError(link_problem(exc)) from None
    web.mail_queued()  # the welcome email, queued with the confirmation
    if web.settings.development:
        web.spawn(_first_digest_now(web, subscriber.id))
    preferences = make_token(web.settings, Purpose.PREFERENCES, subscriber)
    context = {
        "email": subscriber.email,
        "subscriber": subscriber,
        "topics": [t.label for t in subscriber.topics],
        "preferences_path": f"/preferences/{preferences}",
    }
    return web.pages.render(request, "confirmed.html", context)


async def _first_digest_now(web: Web, subscriber_id: int) -> None:
    """Development only: queue today's digest at once so a tester sees it within a minute."""
    try:
        await run_in_threadpool(
            queue_first_digest, web.db, web.settings, subscriber_id, web.now()
        )
    except Exception:
        log.exception("could not queue the first digest for subscriber %s", subscriber_id)
