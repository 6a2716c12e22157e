"""Signed links: confirm, manage preferences, unsubscribe.

Confirmation tokens carry the subscriber's nonce and an age limit; confirming rotates the nonce,
so a confirm link works once. Unsubscribe and preference links must keep working from any old
email, so they carry a digest of the address instead: erasing the subscriber kills them.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer

from newsletter.config import Settings
from newsletter.errors import NewsletterError
from newsletter.store.models import Subscriber


class InvalidToken(NewsletterError):
    """The link was altered, belongs to another purpose, or was already used."""


class ExpiredToken(InvalidToken):
    """The link was real but is too old; the person should subscribe again."""


class Purpose(enum.StrEnum):
    CONFIRM = "confirm"
    PREFERENCES = "preferences"
    UNSUBSCRIBE = "unsubscribe"


@dataclass(frozen=True)
class Claims:
    subscriber_id: int
    check: str
    issued_at: datetime


def _serializer(settings: Settings, purpose: Purpose) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.signing_key(), salt=f"newsletter.{purpose.value}")


def _check(purpose: Purpose, subscriber: Subscriber) -> str:
    if purpose is Purpose.CONFIRM:
        return subscriber.token_nonce
    return hashlib.sha256(subscriber.email.encode()).hexdigest()[:16]


def make_token(settings: Settings, purpose: Purpose, subscriber: Subscriber) -> str:
    return _serializer(settings, purpose).dumps([subscriber.id, _check(purpose, subscriber)])


def read_token(settings: Settings, purpose: Purpose, token: str, *, now: datetime) -> Claims:
    """Decode a token; raise InvalidToken or ExpiredToken (confirm links only expire)."""
    try:
        payload, signed_at = _serializer(settings, purpose).loads(token, return_timestamp=True)
        subscriber_id, check = int(payload[0]), str(payload[1])
    except (BadSignature, ValueError, TypeError, IndexError, KeyError):
        raise InvalidToken("this link is not valid; copy the whole link from the email") from None
    issued = signed_at if signed_at.tzinfo else signed_at.replace(tzinfo=UTC)
    max_age = timedelta(hours=settings.confirm_token_max_age_hours)
    if purpose is Purpose.CONFIRM and now - issued > max_age:
        raise ExpiredToken("this confirmation link has expired; please subscribe again")
    return Claims(subscriber_id, check, issued)


def matches(purpose: Purpose, claims: Claims, subscriber: Subscriber | None) -> bool:
    """Whether the token still belongs to this subscriber (not erased, not already used)."""
    return subscriber is not None and _check(purpose, subscriber) == claims.check


def link(settings: Settings, purpose: Purpose, subscriber: Subscriber) -> str:
    return f"{settings.base_url}/{purpose.value}/{make_token(settings, purpose, subscriber)}"


def unsubscribe_mailto(settings: Settings, subscriber: Subscriber) -> str:
    token = make_token(settings, Purpose.UNSUBSCRIBE, subscriber)
    return f"mailto:{settings.sender_address}?subject=unsubscribe%20{token}"
