"""The one place that lays out an email: headers, parts, encodings.

:class:`MessageTemplate` compiles a rendered email (possibly holding per-recipient tokens, see
:mod:`newsletter.render.personal`) once; :meth:`MessageTemplate.fill` then makes each message's
bytes cheaply. :func:`build_message` is the same path returning an ``EmailMessage`` for
one-off emails. Nothing from a feed or a form reaches a header unchecked: the subject becomes
one line and is RFC 2047-encoded by the email package, addresses must be plain addr-specs.
"""

from __future__ import annotations

import email
import secrets
from collections.abc import Mapping
from datetime import datetime
from email.message import EmailMessage

from newsletter.config import Settings
from newsletter.delivery.messages.headers import (
    POLICY,
    check_message_id,
    date_value,
    new_message_id,
    sender_headers,
    subject_header,
    unsubscribe_headers,
    validate_address,
)
from newsletter.delivery.messages.mime import HoleyBody
from newsletter.render import RenderedEmail

__all__ = ["MessageTemplate", "build_message", "new_message_id", "validate_address"]

_PART_HEADERS = (
    b'Content-Type: text/%s; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'
)


class MessageTemplate:
    """A rendered email compiled to bytes with holes for the recipient's values."""

    def __init__(
        self, settings: Settings, rendered: RenderedEmail, holes: Mapping[str, str]
    ) -> None:
        self.settings = settings
        self._fixed = sender_headers(settings) + subject_header(rendered.subject)
        self._text = HoleyBody(rendered.text, holes, html_part=False)
        self._html = HoleyBody(rendered.html, holes, html_part=True)

    def fill(
        self,
        *,
        to: str,
        now: datetime,
        message_id: str,
        values: Mapping[str, str] | None = None,
        unsubscribe_url: str | None = None,
        unsubscribe_mailto: str | None = None,
        body_lines: list[bytes] | None = None,
    ) -> bytes:
        """The message's bytes (CRLF line ends, 7-bit). ``to`` must be validated already.

        With ``body_lines``, the body's DKIM canonical lines are appended to it (for
        ``Signer.sign``), from pieces canonicalized once per template."""
        values = values or {}
        boundary = f"=_nl_{secrets.token_hex(12)}"
        head = [
            f"To: {to}\r\n".encode("ascii"),
            self._fixed,
            f"Date: {date_value(now)}\r\n".encode("ascii"),
            f"Message-ID: {check_message_id(message_id)}\r\n".encode("ascii"),
            unsubscribe_headers(unsubscribe_url, unsubscribe_mailto),
            f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'.encode(),
        ]
        # the boundary lines and part headers have no runs of blanks: canonical as they are
        dash = f"--{boundary}\r\n".encode()
        plain, markup = dash + _PART_HEADERS % b"plain", dash + _PART_HEADERS % b"html"
        end = f"--{boundary}--\r\n".encode()
        if body_lines is None:
            text, html = self._text.fill(values), self._html.fill(values)
        else:
            body_lines.append(plain)
            text = self._text.fill(values, body_lines)
            body_lines.append(markup)
            html = self._html.fill(values, body_lines)
            body_lines.append(end)
        return b"".join([*head, plain, text, markup, html, end])


def build_message_bytes(
    settings: Settings,
    *,
    to: str,
    rendered: RenderedEmail,
    now: datetime,
    unsubscribe_url: str | None = None,
    unsubscribe_mailto: str | None = None,
    message_id: str | None = None,
) -> bytes:
    """One message as wire bytes, laid out exactly as digests are (``send_raw`` takes them)."""
    return MessageTemplate(settings, rendered, {}).fill(
        to=validate_address(to),
        now=now,
        message_id=message_id or new_message_id(settings),
        unsubscribe_url=unsubscribe_url,
        unsubscribe_mailto=unsubscribe_mailto,
    )


def build_message(
    settings: Settings,
    *,
    to: str,
    rendered: RenderedEmail,
    now: datetime,
    unsubscribe_url: str | None = None,
    unsubscribe_mailto: str | None = None,
    message_id: str | None = None,
) -> EmailMessage:
    """One message as an ``EmailMessage`` (for tests and callers that inspect it)."""
    data = build_message_bytes(
        settings,
        to=to,
        rendered=rendered,
        now=now,
        unsubscribe_url=unsubscribe_url,
        unsubscribe_mailto=unsubscribe_mailto,
        message_id=message_id,
    )
    parsed = email.message_from_bytes(data, policy=POLICY)
    assert isinstance(parsed, EmailMessage)
    return parsed
