"""Rendered email HTML shown inside our pages: a digest preview, a dev mailbox message.

Email HTML relies on inline styles, which the site-wide CSP forbids, so it is served from its own
route with a CSP of its own (inline styles, no scripts at all, sandboxed) and shown in an
``<iframe sandbox>``. A ``<base target>`` makes its links open outside the frame.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.orm import selectinload

from newsletter.config import Settings
from newsletter.delivery.editions.preview import preview_digest
from newsletter.store.database import Database
from newsletter.store.models import Subscriber

FRAMED_CSP = "; ".join(
    [
        "default-src 'none'",
        "style-src 'unsafe-inline'",
        "img-src https: http: data:",
        "frame-ancestors 'self'",
        "form-action 'none'",
        "sandbox allow-popups allow-popups-to-escape-sandbox "
        "allow-top-navigation-by-user-activation",
    ]
)
PREVIEW_HEADERS = {"Content-Security-Policy": FRAMED_CSP, "X-Frame-Options": "SAMEORIGIN"}
_HEAD = re.compile(r"<head[^>]*>", re.IGNORECASE)

NOTHING_YET = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>No digest yet</title></head><body style="font-family: sans-serif; padding: 1rem;">
<p>No new papers match your topics right now. Your first digest will arrive once some do.</p>
</body></html>"""


def with_base_target(markup: str, target: str) -> str:
    """Make every link in the framed document open in ``target`` instead of the frame."""
    base = f'<base target="{target}">'
    match = _HEAD.search(markup)
    if match:
        return markup[: match.end()] + base + markup[match.end() :]
    return base + markup


def preview_html(db: Database, settings: Settings, subscriber_id: int, now: datetime) -> str:
    """Today's digest for one subscriber, by the real matching and rendering code."""
    with db.session() as session:
        subscriber = session.get(
            Subscriber, subscriber_id, options=[selectinload(Subscriber.topics)]
        )
        if subscriber is None:
            return NOTHING_YET
        rendered = preview_digest(session, settings, subscriber, now=now)
    if rendered is None:
        return NOTHING_YET
    return with_base_target(rendered.html, "_blank")
