"""Rendering emails: Jinja2 templates to a subject, a text part and an inlined HTML part.

Each email is a folder in ``templates/email`` holding ``subject.txt``, ``body.txt`` and
``body.html``; the bodies extend the shared ``base.txt``/``base.html``. Contexts come from
:mod:`newsletter.render.contexts`, so templates only display what they are given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from newsletter.render.environment import html_environment, inliner, text_environment

EMAILS = ("digest", "confirm", "manage", "welcome", "preferences_changed", "unsubscribed")


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def one_line(text: str) -> str:
    """Collapse every run of whitespace, CR and LF included: a subject is one clean line."""
    return " ".join(text.split())


def render_email(name: str, context: Mapping[str, Any]) -> RenderedEmail:
    """Render one email; the subject is also given to the bodies (the HTML <title> shows it)."""
    if name not in EMAILS:
        raise ValueError(f"unknown email {name!r}; known: {', '.join(EMAILS)}")
    subject = one_line(text_environment().get_template(f"{name}/subject.txt").render(context))
    values = {**context, "subject": subject}
    text = text_environment().get_template(f"{name}/body.txt").render(values)
    html = html_environment().get_template(f"{name}/body.html").render(values)
    return RenderedEmail(subject=subject, text=text, html=inliner().inline(html))


__all__ = ["EMAILS", "RenderedEmail", "one_line", "render_email"]
