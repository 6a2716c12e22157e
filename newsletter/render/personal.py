"""Per-recipient holes in a rendered email, so the same digest is rendered only once.

A digest is rendered with these tokens in place of the recipient's address and links; the
tokens survive Jinja escaping and CSS inlining unchanged (plain ASCII, no ``&<>"'``), and each
message fills them in. :func:`personalize` does it on strings (previews); the sender fills
them in already-encoded bytes (:mod:`newsletter.delivery.messages.mime`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

from newsletter.render import RenderedEmail

PERSONAL_FIELDS = ("recipient", "preferences_url", "unsubscribe_url")
FEEDBACK_PREFIX = "feedback_"


TOKEN = re.compile(r"(%%NL-[A-Z0-9-]+%%)")  # what :func:`token` makes, as one group


def token(field: str) -> str:
    return f"%%NL-{field.upper().replace('_', '-')}%%"


def placeholders() -> dict[str, str]:
    """Context entries to render a shared copy with: field -> token."""
    return {field: token(field) for field in PERSONAL_FIELDS}


def feedback_field(paper_id: int) -> str:
    """The hole for the recipient's feedback token on one paper.

    One token per paper and recipient serves both its links ("More like this" and "Not for
    me" differ only in the path), so a digest of ten papers signs ten tokens, not twenty.
    """
    return f"{FEEDBACK_PREFIX}{int(paper_id)}"


def personalize(rendered: RenderedEmail, values: Mapping[str, str]) -> RenderedEmail:
    """Fill the tokens: raw in the text part, HTML-escaped in the HTML part."""
    text, markup = rendered.text, rendered.html
    fields = [*PERSONAL_FIELDS, *(f for f in values if f.startswith(FEEDBACK_PREFIX))]
    for field in fields:
        value = values[field]
        text = text.replace(token(field), value)
        markup = markup.replace(token(field), html.escape(value, quote=True))
    return RenderedEmail(subject=rendered.subject, text=text, html=markup)
