"""Reading the machine-written parts of inbound mail with the email package.

Delivery status notifications (RFC 3464: ``message/delivery-status``), feedback reports (ARF,
RFC 5965: ``message/feedback-report``), the original message a report returns, and the marks of
an automatic reply (RFC 3834 ``Auto-Submitted`` and the common vendor headers). Bounces that follow
no standard are left to flufl.bounce's detectors. Nothing here touches the database.
"""

from __future__ import annotations

import contextlib
import copy
import email
import email.policy
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses
from itertools import islice

from flufl.bounce import all_failures

log = logging.getLogger(__name__)
# compat32, as Mailman and flufl.bounce use: headers stay strings until asked for, where the
# default policy parses every header into objects (most of the time spent on a bounce).
POLICY = email.policy.compat32
MAX_PARTS = 200
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")


@dataclass(frozen=True)
class RecipientReport:
    """One per-recipient block of a DSN (or what a non-standard bounce says of one address)."""

    action: str  # failed, delayed, delivered, relayed, expanded
    status: str  # "5.1.1"
    recipient: str
    diagnostic: str = ""


def parse(raw: bytes) -> Message:
    return email.message_from_bytes(raw, policy=POLICY)


def header(message: Message, name: str) -> str:
    """A header as one line of text, RFC 2047 words decoded; one too broken to decode is read
    as it came."""
    value = message.get(name)
    if value is None:
        return ""
    text = str(value)
    with contextlib.suppress(Exception):  # a malformed encoded word: keep the raw text
        text = str(make_header(decode_header(text)))
    return " ".join(text.split())


def status_code(text: str) -> str | None:
    """The first RFC 3463 enhanced status code in ``text`` ("smtp; 550 5.1.1 ..." -> 5.1.1)."""
    found = _STATUS.search(text)
    return ".".join(found.groups()) if found else None


def _parts(message: Message) -> Iterator[Message]:
    """The first ``MAX_PARTS`` parts: a report has a handful, a hostile message may have many."""
    return islice(message.walk(), MAX_PARTS)


def _address(field: str) -> str:
    """``rfc822; user@example.org`` -> ``user@example.org``."""
    _, _, value = field.rpartition(";")
    return value.strip().strip("<>")


def delivery_status(message: Message) -> list[RecipientReport] | None:
    """The per-recipient reports of an RFC 3464 DSN, or None when the message holds none."""
    for part in _parts(message):
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = part.get_payload()
        if not isinstance(blocks, list):
            return []
        reports = []
        for block in blocks[1:]:  # the first block is about the whole message
            if not isinstance(block, Message):
                continue
            action = header(block, "Action").lower()
            diagnostic = header(block, "Diagnostic-Code")
            status = status_code(header(block, "Status")) or status_code(diagnostic)
            if status is None:
                status = "5.0.0" if action == "failed" else "4.0.0"
            recipient = _address(header(block, "Final-Recipient")
                                 or header(block, "Original-Recipient"))
            reports.append(RecipientReport(action, status, recipient, diagnostic[:300]))
        return reports
    return None


def feedback_type(message: Message) -> str | None:
    """The Feedback-Type of an ARF report ("abuse", "fraud", ...), or None if it is not one."""
    for part in _parts(message):
        if part.get_content_type() != "message/feedback-report":
            continue
        payload = part.get_payload()
        fields = payload[0] if isinstance(payload, list) and payload else None
        if isinstance(fields, Message):
            return header(fields, "Feedback-Type").lower() or "abuse"
        if isinstance(payload, str):  # an unparsed report: read the field by hand
            found = re.search(r"^Feedback-Type:\s*(\S+)", payload, re.I | re.M)
            return found.group(1).lower() if found else "abuse"
        return "abuse"
    return None


def returned_headers(message: Message) -> list[Message]:
    """The original messages (or their headers) a DSN or ARF report carries back."""
    found: list[Message] = []
    for part in _parts(message):
        kind = part.get_content_type()
        if kind == "message/rfc822":
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                found.append(payload[0])
        elif kind == "text/rfc822-headers":
            data = part.get_payload(decode=True)
            if isinstance(data, bytes):
                found.append(email.message_from_bytes(data, policy=POLICY))
    return found


def nonstandard_failures(message: Message) -> list[RecipientReport]:
    """A bounce in no standard format, read by flufl.bounce's detectors.

    flufl.bounce names the failed addresses and whether the failure is temporary; the status
    code, if the text quotes one, is taken from the body, else 5.0.0 or 4.0.0 (counted, never
    suppressing at once: we cannot tell an unknown user from a full mailbox).
    """
    try:
        temporary, permanent = all_failures(_with_sender(message))
    except Exception as exc:  # a detector that trips over hostile input: nothing detected
        log.info("flufl.bounce could not read a message: %r", exc)
        return []
    if not temporary and not permanent:
        return []
    quoted = status_code(_text(message))
    reports = []
    found = [*((a, False) for a in temporary), *((a, True) for a in permanent)]
    for address, is_permanent in found:
        default = "5.0.0" if is_permanent else "4.0.0"
        status = quoted if quoted and quoted[0] == default[0] else default
        name = address.decode("utf-8", "replace") if isinstance(address, bytes) else str(address)
        reports.append(RecipientReport("failed", status, name))
    return reports


def _with_sender(message: Message) -> Message:
    """The message, or a copy with a placeholder From: some flufl.bounce detectors (Yale, Sina)
    index the From address list and fail on a message whose From cannot be parsed."""
    if getaddresses([header(message, "From")]):
        return message
    repaired = copy.deepcopy(message)
    del repaired["From"]
    repaired["From"] = "MAILER-DAEMON@unknown.invalid"
    return repaired


def _text(message: Message) -> str:
    chunks = []
    for part in _parts(message):
        if part.get_content_maintype() == "text":
            data = part.get_payload(decode=True)
            if isinstance(data, bytes):
                chunks.append(data.decode("utf-8", "replace"))
    return "\n".join(chunks)[:20_000]


_AUTO_SUBJECT = re.compile(
    r"^(auto(matic)?[ -]?(reply|response|antwort)|out of (the )?office|vacation|"
    r"abwesenheit|absence|r[ée]ponse automatique)", re.I,
)


def is_automatic_reply(message: Message) -> bool:
    """RFC 3834 and the headers vacation programs and Exchange actually send."""
    auto = header(message, "Auto-Submitted").lower()
    if auto and auto != "no":
        return True
    if any(header(message, name) for name in (
        "X-Autoreply", "X-Autorespond", "X-Autoreply-From",
        "X-Mail-Autoreply", "X-FC-MachineGenerated", "X-Vacation",
    )):
        return True
    if header(message, "Precedence").lower() in ("auto_reply", "bulk", "junk", "list"):
        return True
    return bool(_AUTO_SUBJECT.match(header(message, "Subject")))
