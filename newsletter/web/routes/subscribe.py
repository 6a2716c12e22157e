"""The home page and the sign-up form.

Whatever happens to a valid sign-up (new address, pending, already subscribed, throttled, a
bot's honeypot), the answer is the same page with the same status, so nobody can use the form
to learn who subscribes. The email, if any, leaves after the response.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse

from newsletter.web.accounts import request_subscription
from newsletter.web.forms import (
    SubscribeForm,
    blank_subscribe_form,
    check_email,
    check_topics,
    read_subscribe_form,
    timezone_options,
)
from newsletter.web.mail import send_notice
from newsletter.web.pages import PageError, Problem
from newsletter.web.routes.common import guarded_form
from newsletter.web.security import client_address
from newsletter.web.state import Web, WebDep

router = APIRouter()


async def _home_context(web: Web, form: SubscribeForm, *, autodetect: bool) -> dict[str, Any]:
    trending = await run_in_threadpool(web.trending.get, web.db, now=web.now())
    return {
        "form": form,
        "papers": trending.papers,
        "trending_heading": trending.heading,
        "catalog": web.catalog,
        "timezones": timezone_options(form.timezone),
        "autodetect_timezone": autodetect,
        "digest_size": web.settings.digest_size,
    }


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, web: WebDep) -> HTMLResponse:
    form = blank_subscribe_form(web.settings)
    context = await _home_context(web, form, autodetect=True)
    return web.pages.render(request, "index.html", context)


@router.post("/subscribe", response_class=HTMLResponse)
async def subscribe(request: Request, web: WebDep) -> HTMLResponse:
    key = client_address(request)
    if not web.limiter.allow(key):
        raise PageError(_too_many(), {"Retry-After": str(web.limiter.retry_after(key))})
    form = read_subscribe_form(await guarded_form(request, web))
    email = check_email(form)
    choices = check_topics(form, web.catalog)
    if form.honeypot:
        return _check_inbox(request, web, email or "your address")
    if choices is None or not email:
        context = await _home_context(web, form, autodetect=False)
        return web.pages.render(request, "index.html", context, status=400)
    notice = await run_in_threadpool(
        request_subscription, web.db, web.settings, email, choices, now=web.now()
    )
    if notice is not None:
        web.spawn(send_notice(web, notice))
    return _check_inbox(request, web, email)


def _check_inbox(request: Request, web: Web, email: str) -> HTMLResponse:
    return web.pages.render(
        request,
        "check_inbox.html",
        {"email": email, "minutes": round(web.settings.confirm_email_interval_minutes)},
    )


def _too_many() -> Problem:
    return Problem(
        429,
        "Too many sign-ups from your network",
        "To protect people from unwanted email, each network can send this form only a few "
        "times a minute.",
        "Please wait a minute, then send the form again.",
    )
