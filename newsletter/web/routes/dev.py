"""The development mailbox: every email the service "sent", readable in the browser.

Registered only when ``environment`` is development, so production answers 404. Messages are
the ``.eml`` files the transport writes to ``settings.mailbox_path`` when no SMTP is set.
"""

from __future__ import annotations

import email.policy
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from fastapi import APIRouter, Request
from markupsafe import Markup, escape
from starlette.responses import HTMLResponse

from newsletter.web.pages import PageError, problem_for
from newsletter.web.preview import PREVIEW_HEADERS, with_base_target
from newsletter.web.state import WebDep

router = APIRouter(prefix="/dev")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.eml$")
URL = re.compile(r"https?://[^\s<>\"']+")
LISTED = 200


@dataclass(frozen=True)
class Entry:
    name: str
    to: str
    subject: str
    date: str


def _messages(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    files = [p for p in folder.iterdir() if p.is_file() and NAME.match(p.name)]
    return sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name), reverse=True)


def _parse(path: Path, *, headers_only: bool = False) -> EmailMessage:
    parser = BytesParser(_class=EmailMessage, policy=email.policy.default)
    with path.open("rb") as handle:
        return parser.parse(handle, headersonly=headers_only)


def _entry(path: Path) -> Entry:
    message = _parse(path, headers_only=True)
    date = str(message.get("Date", "")) or datetime.fromtimestamp(
        path.stat().st_mtime, UTC
    ).strftime("%a, %d %b %Y %H:%M:%S +0000")
    return Entry(path.name, str(message.get("To", "")), str(message.get("Subject", "")), date)


def _find(web_folder: Path, name: str) -> Path:
    path = web_folder / name
    if not NAME.match(name) or not path.is_file():
        raise PageError(problem_for(404))
    return path


def linkify(text: str) -> Markup:
    """Escape the text part and make its web links clickable."""
    out: list[str] = []
    last = 0
    for match in URL.finditer(text):
        out.append(str(escape(text[last : match.start()])))
        url = escape(match.group(0))
        out.append(f'<a href="{url}">{url}</a>')
        last = match.end()
    out.append(str(escape(text[last:])))
    return Markup("".join(out))


def _part(message: EmailMessage, kind: str) -> str | None:
    part = message.get_body(preferencelist=(kind,))
    if part is None or not isinstance(part, EmailMessage):
        return None
    content = part.get_content()
    return content if isinstance(content, str) else None


@router.get("/mailbox", response_class=HTMLResponse)
async def mailbox(request: Request, web: WebDep) -> HTMLResponse:
    folder = web.settings.mailbox_path
    entries = [_entry(p) for p in _messages(folder)[:LISTED]]
    context = {"entries": entries, "folder": str(folder)}
    return web.pages.render(request, "mailbox.html", context)


@router.get("/mailbox/{name}", response_class=HTMLResponse)
async def mailbox_message(request: Request, name: str, web: WebDep) -> HTMLResponse:
    message = _parse(_find(web.settings.mailbox_path, name))
    text_part = _part(message, "plain")
    headers = [
        (h, str(message.get(h)))
        for h in ("From", "To", "Subject", "Date", "List-Unsubscribe", "List-Unsubscribe-Post")
        if message.get(h) is not None
    ]
    context = {
        "name": name,
        "subject": str(message.get("Subject", "")),
        "headers": headers,
        "has_html": _part(message, "html") is not None,
        "text": linkify(text_part) if text_part is not None else None,
    }
    return web.pages.render(request, "mailbox_message.html", context)


@router.get("/mailbox/{name}/html", response_class=HTMLResponse)
async def mailbox_html(name: str, web: WebDep) -> HTMLResponse:
    html = _part(_parse(_find(web.settings.mailbox_path, name)), "html")
    if html is None:
        raise PageError(problem_for(404))
    return HTMLResponse(with_base_target(html, "_top"), headers=PREVIEW_HEADERS)
