"""What one inbound message means: bytes and envelope recipients in, a :class:`Decision` out.

Pure (no database, no clock read): the signed tokens are checked here, whether they still belong
to a subscriber is checked by :mod:`newsletter.inbound.effects`. The order matters:

1. a complaint (ARF) is a complaint, whatever address it came to;
2. a DSN (RFC 3464) is a bounce when one of its recipients failed; "delayed" is only a warning;
3. mail to a VERP bounce address that is no DSN may be a bounce in no standard format
   (flufl.bounce) or an automatic reply (vacation messages go to the envelope sender);
4. an automatic reply is ignored, even when it quotes an unsubscribe token;
5. an unsubscribe token in the ``+token`` address or the subject unsubscribes;
6. anything else is ignored (and recorded, so an operator can see that mail arrives).

A bounce is tied to its delivery by the VERP envelope sender it was sent to; a bounce or complaint
that reaches the plain address is tied through the original message it returns (its VERP
Return-Path, or the unsubscribe token in its List-Unsubscribe header).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import Message
from email.utils import getaddresses
from urllib.parse import unquote

from newsletter.config import Settings
from newsletter.delivery.failures import bounce_is_hard
from newsletter.inbound import reports
from newsletter.inbound.verp import delivery_of
from newsletter.store.models import InboundKind as Kind
from newsletter.tokens import Claims, InvalidToken, Purpose, read_token

_TOKEN = re.compile(r"\.?[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{16,}")
_ADDRESS_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To", "Cc")
COMPLAINT_TYPES = frozenset({"abuse", "fraud", "other"})


@dataclass(frozen=True)
class Decision:
    """``delivery_id`` (from VERP) or ``claims`` (from a signed unsubscribe token) names the
    subscriber; neither is set for an ignored message."""

    kind: Kind
    reason: str
    delivery_id: int | None = None
    claims: Claims | None = None
    status: str | None = None


def decide(
    raw: bytes, recipients: Sequence[str], settings: Settings, now: datetime
) -> Decision:
    """Never raises: a message too broken to read is ignored with the reason."""
    try:
        return _decide(reports.parse(raw), recipients, settings, now)
    except Exception as exc:  # hostile MIME must never stop the processor
        return Decision(Kind.IGNORED, f"unreadable message: {type(exc).__name__}: {exc}"[:300])


def _decide(
    message: Message, recipients: Sequence[str], settings: Settings, now: datetime
) -> Decision:
    addresses = [*recipients, *_header_addresses(message)]
    delivery = next((d for d in (delivery_of(settings, a) for a in addresses) if d), None)

    feedback = reports.feedback_type(message)
    if feedback is not None:
        if feedback not in COMPLAINT_TYPES:
            return Decision(Kind.IGNORED, f"feedback report of type {feedback!r}")
        delivery_id, claims = _original(message, settings, now, delivery)
        if delivery_id is None and claims is None:
            return Decision(Kind.IGNORED, "complaint about a message that is not one of ours")
        return Decision(Kind.COMPLAINT, f"complaint ({feedback})", delivery_id, claims)

    dsn = reports.delivery_status(message)
    if dsn is not None:
        return _bounce(message, dsn, "delivery status notification", settings, now, delivery)

    if delivery is not None:
        odd = reports.nonstandard_failures(message)
        if odd:
            return _bounce(message, odd, "bounce (no DSN)", settings, now, delivery)

    if reports.is_automatic_reply(message):
        return Decision(Kind.IGNORED, "automatic reply")
    if delivery is not None:
        return Decision(Kind.IGNORED, "mail to a bounce address that reports no failure")

    claims = _unsubscribe_claims(addresses, reports.header(message, "Subject"), settings, now)
    if claims is not None:
        return Decision(Kind.UNSUBSCRIBE, "unsubscribe request by email", claims=claims)
    return Decision(Kind.IGNORED, "no unsubscribe token and no report")


def _bounce(
    message: Message,
    found: Sequence[reports.RecipientReport],
    what: str,
    settings: Settings,
    now: datetime,
    delivery: int | None,
) -> Decision:
    failed = [r for r in found if r.action == "failed"]
    if not failed:
        actions = ", ".join(sorted({r.action or "none" for r in found})) or "no recipients"
        return Decision(Kind.IGNORED, f"{what}: {actions}, nothing failed")
    worst = next((r for r in failed if bounce_is_hard(r.status)), failed[0])
    kind = Kind.HARD_BOUNCE if bounce_is_hard(worst.status) else Kind.SOFT_BOUNCE
    detail = f"{what}: {worst.status} {worst.recipient} {worst.diagnostic}".strip()
    delivery_id, claims = (delivery, None) if delivery else _original(message, settings, now, None)
    if delivery_id is None and claims is None:
        return Decision(Kind.IGNORED, f"{detail} (not tied to any delivery of ours)"[:300],
                        status=worst.status)
    return Decision(kind, detail[:300], delivery_id, claims, worst.status)


def _header_addresses(message: Message) -> list[str]:
    values = [reports.header(message, name) for name in _ADDRESS_HEADERS]
    return [address for _, address in getaddresses([v for v in values if v]) if address]


def _original(
    message: Message, settings: Settings, now: datetime, delivery: int | None
) -> tuple[int | None, Claims | None]:
    """Which of our deliveries or subscribers a returned original message was."""
    if delivery is not None:
        return delivery, None
    for original in reports.returned_headers(message):
        for address in getaddresses([reports.header(original, "Return-Path")]):
            found = delivery_of(settings, address[1])
            if found is not None:
                return found, None
        claims = _claims(_tokens(unquote(reports.header(original, "List-Unsubscribe"))),
                         settings, now)
        if claims is not None:
            return None, claims
    return None, None


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _claims(candidates: Iterable[str], settings: Settings, now: datetime) -> Claims | None:
    for token in candidates:
        try:
            return read_token(settings, Purpose.UNSUBSCRIBE, token, now=now)
        except InvalidToken:
            continue
    return None


def _unsubscribe_claims(
    addresses: Sequence[str], subject: str, settings: Settings, now: datetime
) -> Claims | None:
    """The token of ``digest+<token>@domain`` or of a subject like ``unsubscribe <token>``."""
    base, _, domain = settings.sender_address.lower().rpartition("@")
    plus = []
    for address in addresses:
        local, _, their_domain = address.rpartition("@")
        head, sep, tail = local.partition("+")
        if sep and head.lower() == base and their_domain.lower() == domain:
            plus.append(tail)
    return _claims([*plus, *_tokens(subject)], settings, now)
