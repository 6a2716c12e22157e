"""Steps several routes share: reading a guarded form and turning a link into a subscriber."""

from __future__ import annotations

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from newsletter.store.models import Subscriber
from newsletter.tokens import Claims, ExpiredToken, InvalidToken, Purpose, read_token
from newsletter.web.accounts import LinkError, LinkProblem, subscriber_for
from newsletter.web.forms import text
from newsletter.web.pages import PageError, Problem
from newsletter.web.security import CSRF_FIELD, check_origin
from newsletter.web.state import Web

MAX_TOKEN = 400
MAX_FIELDS = 200


async def read_form(request: Request) -> FormData:
    """The posted fields; uploads are refused outright (no form here takes a file)."""
    return await request.form(max_files=0, max_fields=MAX_FIELDS)


async def guarded_form(request: Request, web: Web) -> FormData:
    """The posted fields, after proving the post came from our own page (else 403)."""
    check_origin(request, web.settings)
    form = await read_form(request)
    web.csrf.verify(request, text(form, CSRF_FIELD))
    return form


def invalid_link() -> Problem:
    return Problem(
        400,
        "This link is not valid",
        "The link may have been cut short or changed when it was copied.",
        "Open the link straight from the email, or copy the whole of it into the address bar. "
        "If it still fails, subscribe again from the home page.",
        "/",
        "Subscribe again",
    )


def read_link(web: Web, purpose: Purpose, token: str) -> Claims:
    if len(token) > MAX_TOKEN:
        raise PageError(invalid_link())
    try:
        return read_token(web.settings, purpose, token, now=web.now())
    except ExpiredToken:
        hours = round(web.settings.confirm_token_max_age_hours)
        raise PageError(
            Problem(
                410,
                "This confirmation link has expired",
                f"Confirmation links work for {hours} hours, and this one is older.",
                "Subscribe again on the home page and we will email you a fresh link.",
                "/",
                "Subscribe again",
            )
        ) from None
    except InvalidToken:
        raise PageError(invalid_link()) from None


def link_problem(error: LinkError) -> Problem:
    if error.problem is LinkProblem.USED:
        return Problem(
            410,
            "This link was already used",
            "Confirmation links work once, and this subscription is already confirmed "
            "(or the address signed up again and a newer link was sent).",
            "Use the newest email from us: the welcome email has links to change your "
            "preferences or unsubscribe.",
        )
    return Problem(
        404,
        "This link no longer works",
        "The subscription it belonged to no longer exists; it may have been deleted.",
        "You can subscribe again on the home page.",
        "/",
        "Subscribe again",
    )


async def linked_subscriber(web: Web, purpose: Purpose, token: str) -> tuple[Claims, Subscriber]:
    claims = read_link(web, purpose, token)
    try:
        subscriber = await run_in_threadpool(subscriber_for, web.db, purpose, claims)
    except LinkError as exc:
        raise PageError(link_problem(exc)) from None
    return claims, subscriber
