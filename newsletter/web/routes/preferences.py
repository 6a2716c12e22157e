"""Managing a subscription from the link in any email: change, preview, download, delete,
and the papers rated "More like this" / "Not for me" (remove any, add example papers).

The signed link is the only credential (there are no accounts); the forms also carry a CSRF
token so a page elsewhere cannot post them in the visitor's name.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, Response

from newsletter.store.models import Subscriber, SubscriberStatus
from newsletter.tokens import Purpose, make_token
from newsletter.web.accounts import LinkError, erase, export_data, save_preferences
from newsletter.web.examples import (
    EXAMPLES_FIELD,
    TOPIC_FIELD,
    ExamplesForm,
    add_examples,
    rated_papers,
    remove_rating,
)
from newsletter.web.forms import TopicsForm, check_topics, form_for, read_topics_form, text
from newsletter.web.forms import timezone_options as zones
from newsletter.web.mail import send_preferences_changed
from newsletter.web.pages import PageError, Problem
from newsletter.web.preview import PREVIEW_HEADERS, preview_html
from newsletter.web.routes.common import guarded_form, link_problem, linked_subscriber
from newsletter.web.state import Web, WebDep

router = APIRouter()


async def _page(
    request: Request,
    web: Web,
    token: str,
    subscriber: Subscriber,
    form: TopicsForm,
    *,
    status: int = 200,
    saved: bool = False,
    examples: ExamplesForm | None = None,
    removed: bool = False,
) -> HTMLResponse:
    rated = await run_in_threadpool(rated_papers, web.db, subscriber.id)
    context: dict[str, Any] = {
        "rated": rated,
        "examples": examples or ExamplesForm(),
        "removed": removed,
        "topic_labels": [topic.label for topic in subscriber.topics],
        "examples_field": EXAMPLES_FIELD,
        "topic_field": TOPIC_FIELD,
        "token": token,
        "email": subscriber.email,
        "unsubscribed": subscriber.status is not SubscriberStatus.ACTIVE,
        "form": form,
        "catalog": web.catalog,
        "timezones": zones(form.timezone),
        "saved": saved,
        "unsubscribe_path": "/unsubscribe/"
        + make_token(web.settings, Purpose.UNSUBSCRIBE, subscriber),
    }
    return web.pages.render(request, "preferences.html", context, status=status)


@router.get("/preferences/{token}", response_class=HTMLResponse)
async def preferences_page(request: Request, token: str, web: WebDep) -> HTMLResponse:
    _, subscriber = await linked_subscriber(web, Purpose.PREFERENCES, token)
    return await _page(request, web, token, subscriber, form_for(subscriber, web.catalog))


@router.post("/preferences/{token}", response_class=HTMLResponse)
async def preferences_save(request: Request, token: str, web: WebDep) -> HTMLResponse:
    form_data = await guarded_form(request, web)
    _, subscriber = await linked_subscriber(web, Purpose.PREFERENCES, token)
    form = read_topics_form(form_data)
    choices = check_topics(form, web.catalog)
    if choices is None:
        return await _page(request, web, token, subscriber, form, status=400)
    try:
        updated = await run_in_threadpool(save_preferences, web.db, subscriber.id, choices)
    except LinkError as exc:
        raise PageError(link_problem(exc)) from None
    web.spawn(send_preferences_changed(web, updated))
    return await _page(request, web, token, updated, form_for(updated, web.catalog), saved=True)


@router.post("/preferences/{token}/export")
async def preferences_export(request: Request, token: str, web: WebDep) -> Response:
    await guarded_form(request, web)
    _, subscriber = await linked_subscriber(web, Purpose.PREFERENCES, token)
    try:
        data = await run_in_threadpool(export_data, web.db, subscriber.id)
    except LinkError as exc:
        raise PageError(link_problem(exc)) from None
    body = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    return Response(
        body,
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="my-newsletter-data.json"'},
    )


@router.post("/preferences/{token}/delete", response_class=HTMLResponse)
async def preferences_delete(request: Request, token: str, web: WebDep) -> HTMLResponse:
    form_data = await guarded_form(request, web)
    _, subscriber = await linked_subscriber(web, Purpose.PREFERENCES, token)
    if text(form_data, "confirm_delete") != "yes":
        form = form_for(subscriber, web.catalog)
        form.errors["confirm_delete"] = "Tick the box to confirm that everything should be erased."
        return await _page(request, web, token, subscriber, form, status=400)
    await run_in_threadpool(erase, web.db, subscriber.id)
    return web.pages.render(request, "deleted.html", {"email": subscriber.email})


@router.get("/preferences/{token}/preview", response_class=HTMLResponse)
async def preferences_preview(token: str, web: WebDep) -> HTMLResponse:
    """Today's digest for this subscriber, shown inside a sandboxed frame on our pages."""
    _, subscriber = await linked_subscriber(web, Purpose.PREFERENCES, token)
    markup = await run_in_threadpool(preview_html, web.db, web.settings, subscriber.id, web.now())
    return HTMLResponse(markup, headers=PREVIEW_HEADERS)


@router.post("/preferences/{token}/examples", response_class=HTMLResponse)
async def preferences_examples(request: Request, token: str, web: WebDep) -> HTMLResponse:
    """Papers like these: found ones become "More like this", unknown ones are named."""
    form_data = await guarded_form(request, web)
    _, subscriber = await linked_subscriber(web, Purpose.PREFERENCES, token)
    typed = ExamplesForm(text(form_data, EXAMPLES_FIELD), text(form_data, TOPIC_FIELD))
    result = await run_in_threadpool(add_examples, web.db, subscriber, typed, now=web.now())
    return await _page(request, web, token, subscriber, form_for(subscriber, web.catalog),
                       status=400 if result.errors else 200, examples=result)


@router.post("/preferences/{token}/rated/remove", response_class=HTMLResponse)
async def preferences_remove_rated(request: Request, token: str, web: WebDep) -> HTMLResponse:
    form_data = await guarded_form(request, web)
    _, subscriber = await linked_subscriber(web, Purpose.PREFERENCES, token)
    try:
        paper_id = int(text(form_data, "paper_id"))
    except ValueError:
        raise PageError(Problem(400, "Nothing to remove", "The form did not say which paper.",
                                "Go back, reload the page and press Remove again.")) from None
    await run_in_threadpool(remove_rating, web.db, subscriber.id, paper_id)
    return await _page(request, web, token, subscriber, form_for(subscriber, web.catalog),
                       removed=True)
