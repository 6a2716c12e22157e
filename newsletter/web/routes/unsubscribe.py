"""Leaving: a page with one button, and RFC 8058 one-click for mail providers.

The signed token in the URL is the only authority: mail providers post
``List-Unsubscribe=One-Click`` with no cookies and no CSRF token, so these posts are exempt from
CSRF and answer 200 with no redirect. Repeating a post changes nothing; a GET never changes
anything (link scanners fetch every URL in a message).

Like listmonk, no "you have unsubscribed" email is sent, from the button or from one-click:
the page is the confirmation, and someone who asked for no more email gets none.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse

from newsletter.store.models import SubscriberStatus
from newsletter.tokens import Purpose
from newsletter.web.accounts import LinkError, subscriber_for, unsubscribe
from newsletter.web.routes.common import linked_subscriber, read_link
from newsletter.web.state import WebDep

router = APIRouter()


@router.get("/unsubscribe/{token}", response_class=HTMLResponse)
async def unsubscribe_page(request: Request, token: str, web: WebDep) -> HTMLResponse:
    _, subscriber = await linked_subscriber(web, Purpose.UNSUBSCRIBE, token)
    context = {
        "email": subscriber.email,
        "already": subscriber.status is SubscriberStatus.UNSUBSCRIBED,
    }
    return web.pages.render(request, "unsubscribe.html", context)


@router.post("/unsubscribe/{token}", response_class=HTMLResponse)
async def unsubscribe_post(request: Request, token: str, web: WebDep) -> HTMLResponse:
    claims = read_link(web, Purpose.UNSUBSCRIBE, token)  # a forged or cut link is still a 400
    try:
        subscriber = await run_in_threadpool(subscriber_for, web.db, Purpose.UNSUBSCRIBE, claims)
    except LinkError:
        # Erased already: nothing is left to unsubscribe, which is what was asked for.
        return web.pages.render(request, "unsubscribed.html", {"email": None})
    await run_in_threadpool(unsubscribe, web.db, subscriber.id, now=web.now())
    return web.pages.render(request, "unsubscribed.html", {"email": subscriber.email})
