"""The app factory: routes, error pages and middleware around one settings object and database.

``create_app`` takes everything from outside (settings, database, clock), so a
test can run the real app against its own database, SMTP server and frozen time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from newsletter.clock import utc_now
from newsletter.config import Settings
from newsletter.store.database import Database
from newsletter.web.catalog import load_catalog
from newsletter.web.head import HeadAsGet
from newsletter.web.mail import account_sender
from newsletter.web.pages import PageError, Pages, Problem, problem_for, static_dir
from newsletter.web.routes import (
    confirm,
    dev,
    feedback,
    health,
    preferences,
    subscribe,
    unsubscribe,
)
from newsletter.web.security import (
    BodySizeLimit,
    ClientRateLimit,
    Csrf,
    CsrfError,
    SecurityHeaders,
)
from newsletter.web.state import Web

log = logging.getLogger(__name__)


def create_app(
    settings: Settings,
    db: Database,
    *,
    clock: Callable[[], datetime] | None = None,
    scheduler_running: Callable[[], bool] | None = None,
    send_account_emails: bool = True,
) -> FastAPI:
    """The web app. With ``send_account_emails`` it runs a sender for account emails while it
    serves; ``newsletter serve`` turns that off because its own sender does it (woken through
    ``web.mail_waiting``)."""
    csrf = Csrf(settings)
    web = Web(
        settings=settings,
        db=db,
        pages=Pages(settings, csrf),
        csrf=csrf,
        limiter=ClientRateLimit(settings.subscribe_rate_limit_per_minute),
        catalog=load_catalog(),
        clock=clock or utc_now,
        scheduler_running=scheduler_running,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        sender = asyncio.create_task(account_sender(web, stop)) if send_account_emails else None
        try:
            yield
        finally:
            await web.drain()
            stop.set()
            if sender is not None:
                await sender

    app = FastAPI(
        title=settings.sender_name,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.web = web
    app.mount("/static", StaticFiles(directory=static_dir()), name="static")
    for module in (subscribe, confirm, preferences, unsubscribe, feedback, health):
        app.include_router(module.router)
    if settings.development:
        app.include_router(dev.router)
    _error_pages(app, web)
    app.add_middleware(BodySizeLimit)
    app.add_middleware(SecurityHeaders, error_page=web.pages.bare_error)
    app.add_middleware(HeadAsGet)
    return app


def _error_pages(app: FastAPI, web: Web) -> None:
    """Every error a visitor can meet is a page of ours that says what to do, never a trace."""

    async def page_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageError)
        return web.pages.problem(request, exc.problem, exc.headers)

    async def csrf_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, CsrfError)
        return web.pages.problem(request, _forbidden(exc.reason))

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        problem = problem_for(exc.status_code)
        if exc.status_code == 400 and isinstance(exc.detail, str):
            problem = Problem(400, problem.title, exc.detail.rstrip(".") + ".", problem.action)
        return web.pages.problem(request, problem, dict(exc.headers or {}))

    async def invalid_request(request: Request, exc: Exception) -> Response:
        return web.pages.problem(request, problem_for(400))

    app.add_exception_handler(PageError, page_error)
    app.add_exception_handler(CsrfError, csrf_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    # Anything else escapes to SecurityHeaders, which logs it and answers with our 500 page.


def _forbidden(reason: str) -> Problem:
    return Problem(
        403,
        "This form could not be accepted",
        f"For your safety we only accept forms sent from this site's own pages, and {reason}.",
        "Go back, reload the page so it gets a fresh form, and send it again. If this keeps "
        "happening, allow cookies for this site.",
    )

