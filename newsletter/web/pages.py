"""Server-rendered pages: one Jinja2 environment over ``templates/web`` and the error pages.

Every page extends ``base.html``. Autoescaping is always on: subscriber input (topic labels,
keywords, addresses) is shown back on several pages.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import escape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from newsletter.config import Settings
from newsletter.web.security import CSRF_FIELD, Csrf

_PACKAGE = Path(__file__).resolve().parent.parent


def web_templates_dir() -> Path:
    """The repository's ``templates/web``, or the copy bundled into an installed wheel."""
    for candidate in (_PACKAGE.parent / "templates" / "web", _PACKAGE / "_templates" / "web"):
        if (candidate / "base.html").exists():
            return candidate
    raise FileNotFoundError("templates/web not found")


def static_dir() -> Path:
    return web_templates_dir() / "static"


@dataclass(frozen=True)
class Problem:
    """What an error page says: a title, what happened, and what to do about it."""

    status: int
    title: str
    message: str
    action: str = ""
    link: str = "/"
    link_text: str = "Go to the home page"


DEFAULT_PROBLEMS: dict[int, Problem] = {
    400: Problem(400, "That request did not make sense", "Some of what was sent is not valid."),
    403: Problem(403, "Not allowed", "This action cannot be done from here."),
    404: Problem(
        404, "Page not found", "There is nothing at this address.", "Check the link, or start over."
    ),
    405: Problem(405, "Not allowed", "This page cannot be used that way."),
    413: Problem(
        413,
        "Too much text",
        "What you sent is larger than any form on this site allows.",
        "Go back, shorten your topics or keywords, and send the form again.",
    ),
    429: Problem(429, "Too many attempts", "Please wait a minute, then try again."),
    500: Problem(
        500,
        "Something went wrong on our side",
        "Your request could not be completed. Nothing was lost on your side.",
        "Please try again in a few minutes.",
    ),
    503: Problem(503, "Temporarily unavailable", "The service is busy or starting up."),
}


def problem_for(status: int) -> Problem:
    known = DEFAULT_PROBLEMS.get(status)
    if known is not None:
        return known
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    return Problem(status, phrase, "The request could not be completed.")


class _LazyToken:
    """The form token, signed only if the page has a form: signing it was 5% of a sign-up's
    CPU for the "check your inbox" page, which has none."""

    def __init__(self, make: Callable[[], str]) -> None:
        self._make = make
        self._value: str | None = None

    def __str__(self) -> str:
        if self._value is None:
            self._value = self._make()
        return self._value

    def __html__(self) -> str:
        return str(escape(str(self)))


class Pages:
    """Renders templates into responses, with the CSRF token and site-wide values in context."""

    def __init__(self, settings: Settings, csrf: Csrf) -> None:
        self.settings = settings
        self.csrf = csrf
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(web_templates_dir()),
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
            undefined=jinja2.StrictUndefined,
            # Checking every template file's mtime on each render was 1.5% of a sign-up's CPU
            # under load; only someone editing the templates needs it.
            auto_reload=settings.development,
        )
        self.env.globals.update(
            site_name=settings.sender_name,
            development=settings.development,
            postal_address=settings.postal_address,
            csrf_field=CSRF_FIELD,
            weekly_day=calendar.day_name[settings.weekly_send_weekday],
        )

    def render(
        self,
        request: Request,
        name: str,
        context: dict[str, Any] | None = None,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> HTMLResponse:
        values = dict(context or {})
        values.setdefault("csrf_token", _LazyToken(lambda: self.csrf.form_token(request)))
        body = self.env.get_template(name).render(values)
        response = HTMLResponse(body, status_code=status, headers=headers)
        self.csrf.set_cookie(request, response)
        return response

    def problem(
        self, request: Request, problem: Problem, headers: dict[str, str] | None = None
    ) -> HTMLResponse:
        return self.render(
            request, "error.html", {"problem": problem}, status=problem.status, headers=headers
        )

    def bare_error(self, status: int) -> bytes:
        """An error page without a request (for the last-resort handler in the middleware)."""
        body = self.env.get_template("error.html").render(
            problem=problem_for(status), csrf_token=""
        )
        return body.encode("utf-8")


class PageError(Exception):
    """Raised anywhere in a route to answer with an error page that says what to do."""

    def __init__(self, problem: Problem, headers: dict[str, str] | None = None) -> None:
        self.problem = problem
        self.headers = headers
        super().__init__(problem.title)
