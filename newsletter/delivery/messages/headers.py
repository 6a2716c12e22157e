"""Header values, each checked or encoded so that no feed or form data can add a header.

Per-message headers are written directly from values validated here (the email package's
header objects cost more than a whole message's body); anything not plain ASCII goes through
the email package, which RFC 2047-encodes and folds it.
"""

from __future__ import annotations

import email.policy
import re
import secrets
from datetime import datetime
from email.header import Header
from email.headerregistry import Address
from email.utils import format_datetime
from functools import lru_cache

from newsletter.config import Settings
from newsletter.errors import InvalidInput
from newsletter.render import one_line

POLICY = email.policy.SMTP
_ADDR_SPEC = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                        r"@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*")

_MESSAGE_ID = re.compile(r"<[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+>")


def validate_address(address: str) -> str:
    """A plain ASCII addr-spec (IDN domains as punycode), or InvalidInput: nothing to inject."""
    local, at, domain = address.strip().rpartition("@")
    try:
        domain = domain.encode("idna").decode("ascii") if not domain.isascii() else domain
    except UnicodeError:
        raise InvalidInput(f"bad domain in {address!r}", where="address") from None
    candidate = f"{local}{at}{domain}"
    if len(candidate) > 254 or not _ADDR_SPEC.fullmatch(candidate):
        raise InvalidInput(f"{address!r} is not a plain email address", where="address")
    return candidate


def new_message_id(settings: Settings, hint: str = "") -> str:
    """Unique, on our own domain, and traceable to a delivery when ``hint`` names it."""
    prefix = f"{hint}." if hint else ""
    return f"<{prefix}{secrets.token_hex(8)}@{settings.mail_domain}>"


def _header(name: str, value: str) -> bytes:
    """Parsed and folded by the email package: RFC 2047 for non-ASCII, never a raw CR/LF."""
    folded: str = POLICY.header_factory(name, value).fold(policy=POLICY)
    return folded.encode("ascii")


def _list_id(sender_name: str, address: str, list_id: str) -> bytes:
    """RFC 2919: a phrase and ``<label.domain>``; the email package would encode the brackets."""
    label = re.sub(r"[^A-Za-z0-9-]+", "-", list_id).strip("-") or "newsletter"
    name = one_line(sender_name)
    phrase = (
        '"' + re.sub(r'["\\]', "", name) + '"' if name.isascii()
        else Header(name, "utf-8").encode()
    )
    domain = address.rpartition("@")[2]
    return f"List-Id: {phrase} <{label}.{domain}>\r\n".encode("ascii")


def sender_headers(settings: Settings) -> bytes:
    return _identity_headers(settings.sender_name, settings.sender_address, settings.list_id)


@lru_cache(maxsize=8)
def _identity_headers(name: str, address: str, list_id: str) -> bytes:
    """From, MIME-Version, List-Id: the same for every message of one configuration."""
    sender = Address(display_name=one_line(name), addr_spec=address)
    version = b"MIME-Version: 1.0\r\n"
    return _header("From", str(sender)) + version + _list_id(name, address, list_id)


def subject_header(text: str) -> bytes:
    """One line; plain ASCII short enough is written as is, anything else via the email package
    (RFC 2047 encoded words, folded)."""
    line = one_line(text)
    if line.isascii() and line.isprintable() and len(line) <= 900:
        return f"Subject: {line}\r\n".encode("ascii")
    return _header("Subject", line)


def date_value(now: datetime) -> str:
    return _date_of_second(now.replace(microsecond=0))


@lru_cache(maxsize=4)
def _date_of_second(now: datetime) -> str:
    """RFC 5322 date; a batch sends many messages in the same second."""
    return format_datetime(now)


def _checked_link(link: str) -> str:
    """A URI for List-Unsubscribe: printable ASCII without the characters that delimit it."""
    if not link.isascii() or any(c in link for c in '<>", ') or not link.isprintable():
        raise InvalidInput(f"{link!r} cannot go in a List-Unsubscribe header", where="link")
    return link


def unsubscribe_headers(url: str | None, mailto: str | None) -> bytes:
    """RFC 2369 + RFC 8058; written by hand because the email package would RFC 2047-encode
    long URLs, which no mailbox provider understands."""
    links = [f"<{_checked_link(link)}>" for link in (url, mailto) if link]
    if not links:
        return b""
    out = "List-Unsubscribe: " + ",\r\n ".join(links) + "\r\n"
    if url:
        out += "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
    return out.encode("ascii")


def check_message_id(message_id: str) -> str:
    if not _MESSAGE_ID.fullmatch(message_id):
        raise InvalidInput(f"{message_id!r} is not a Message-ID", where="message_id")
    return message_id
