"""Signed links: confirm, manage preferences, unsubscribe, and "More like this" / "Not for me".

Confirmation tokens carry the subscriber's nonce and an age limit; confirming rotates the nonce,
so a confirm link works once. Unsubscribe and preference links must keep working from any old
email, so they carry a digest of the address instead: erasing the subscriber kills them.

Feedback links name one subscriber and one paper each, and there are two per paper in every
digest, so they are signed with a plain :class:`itsdangerous.Signer` over ``subscriber.paper.
check`` (short, and one HMAC per link: a digest signs twenty of them). ``check`` is drawn from
the subscriber's nonce, so rotating the nonce voids every feedback link sent before.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import json
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Protocol

from itsdangerous import BadSignature, Signer, TimestampSigner, URLSafeTimedSerializer

from newsletter.config import Settings
from newsletter.errors import NewsletterError
from newsletter.store.models import Subscriber

INVALID = "this link is not valid; copy the whole link from the email"


class InvalidToken(NewsletterError):
    """The link was altered, belongs to another purpose, or was already used."""


class ExpiredToken(InvalidToken):
    """The link was real but is too old; the person should subscribe again."""


class Purpose(enum.StrEnum):
    CONFIRM = "confirm"
    PREFERENCES = "preferences"
    UNSUBSCRIBE = "unsubscribe"


class Signable(Protocol):
    """What a link is signed from: a ``Subscriber``, or the plain values the outbox claims."""

    @property
    def id(self) -> int: ...

    @property
    def email(self) -> str: ...

    @property
    def token_nonce(self) -> str: ...


@dataclass(frozen=True)
class Claims:
    subscriber_id: int
    check: str
    issued_at: datetime


def _serializer(settings: Settings, purpose: Purpose) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.signing_key(), salt=f"newsletter.{purpose.value}")


class TokenWriter:
    """Writes the tokens :func:`read_token` reads (itsdangerous's ``URLSafeTimedSerializer``
    format, byte for byte: a test compares them) for one secret.

    itsdangerous builds a serializer and a signer and derives the salted key on every token:
    25 us, and a digest carries two (preferences and unsubscribe), a tenth of composing and
    signing it. Here the keys are derived once, and the two tokens of one message share the
    payload and the timestamp, which are the same.
    """

    def __init__(self, secret: str) -> None:
        self._keys = {
            purpose: TimestampSigner(secret, salt=f"newsletter.{purpose.value}").derive_key()
            for purpose in Purpose
        }

    def tokens(
        self, purposes: Sequence[Purpose], subscriber_id: int, check: str, now: float
    ) -> list[str]:
        """One token per purpose, all for ``[subscriber_id, check]`` signed at ``now``."""
        payload = json.dumps([subscriber_id, check], separators=(",", ":"),
                             ensure_ascii=False).encode()
        compressed = zlib.compress(payload)  # kept only when shorter, as itsdangerous does
        shorter = len(compressed) < len(payload) - 1
        payload = b"." + _b64(compressed) if shorter else _b64(payload)
        value = payload + b"." + _b64(int(now).to_bytes(8, "big").lstrip(b"\0"))
        return [
            (value + b"." + _b64(hmac.digest(self._keys[p], value, "sha1"))).decode("ascii")
            for p in purposes
        ]


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


@lru_cache(maxsize=4)
def token_writer(secret: str) -> TokenWriter:
    return TokenWriter(secret)


def subscriber_check(purpose: Purpose, subscriber_id: int, email: str, nonce: str) -> str:
    """What a token holds besides the id (see :func:`_check`)."""
    if purpose is Purpose.CONFIRM:
        return nonce
    return hashlib.sha256(email.encode()).hexdigest()[:16]


def _check(purpose: Purpose, subscriber: Signable) -> str:
    return subscriber_check(purpose, subscriber.id, subscriber.email, subscriber.token_nonce)


def make_token(settings: Settings, purpose: Purpose, subscriber: Signable) -> str:
    [token] = token_writer(settings.signing_key()).tokens(
        [purpose], subscriber.id, _check(purpose, subscriber), time.time()
    )
    return token


def read_token(settings: Settings, purpose: Purpose, token: str, *, now: datetime) -> Claims:
    """Decode a token; raise InvalidToken or ExpiredToken (confirm links only expire)."""
    try:
        payload, signed_at = _serializer(settings, purpose).loads(token, return_timestamp=True)
        subscriber_id, check = int(payload[0]), str(payload[1])
    except (BadSignature, ValueError, TypeError, IndexError, KeyError):
        raise InvalidToken(INVALID) from None
    issued = signed_at if signed_at.tzinfo else signed_at.replace(tzinfo=UTC)
    max_age = timedelta(hours=settings.confirm_token_max_age_hours)
    if purpose is Purpose.CONFIRM and now - issued > max_age:
        raise ExpiredToken("this confirmation link has expired; please subscribe again")
    return Claims(subscriber_id, check, issued)


def matches(purpose: Purpose, claims: Claims, subscriber: Subscriber | None) -> bool:
    """Whether the token still belongs to this subscriber (not erased, not already used)."""
    return subscriber is not None and _check(purpose, subscriber) == claims.check


def link(settings: Settings, purpose: Purpose, subscriber: Signable) -> str:
    return token_url(settings, purpose, make_token(settings, purpose, subscriber))


def token_url(settings: Settings, purpose: Purpose, token: str) -> str:
    return f"{settings.base_url}/{purpose.value}/{token}"


def unsubscribe_mailto(settings: Settings, subscriber: Signable) -> str:
    token = make_token(settings, Purpose.UNSUBSCRIBE, subscriber)
    return f"mailto:{settings.sender_address}?subject=unsubscribe%20{token}"


# --- feedback ("More like this" / "Not for me") -------------------------------------------------
MORE_LIKE_THIS = "more-like-this"
NOT_FOR_ME = "not-for-me"


@dataclass(frozen=True)
class FeedbackClaims:
    subscriber_id: int
    paper_id: int
    check: str


def feedback_check(token_nonce: str) -> str:
    """What a feedback link holds of the nonce: enough to tell it changed, nothing to reuse."""
    return hashlib.sha256(f"feedback:{token_nonce}".encode()).hexdigest()[:10]


class FeedbackLinks:
    """Signs and reads feedback tokens; one per process or composer (the signer is reused)."""

    def __init__(self, settings: Settings) -> None:
        self.base_url = settings.base_url
        # The salted key is derived once here rather than on every signature (itsdangerous
        # derives it per call): a digest signs a token per paper, and that halves the cost.
        key = Signer(settings.signing_key(), salt="newsletter.feedback").derive_key()
        self._signer = Signer(key, key_derivation="none")

    def token(self, subscriber_id: int, paper_id: int, check: str) -> str:
        return self._signer.sign(f"{subscriber_id}.{paper_id}.{check}").decode("ascii")

    def read(self, token: str) -> FeedbackClaims:
        try:
            value = self._signer.unsign(token).decode("ascii")
            subscriber_id, paper_id, check = value.split(".")
            return FeedbackClaims(int(subscriber_id), int(paper_id), check)
        except (BadSignature, ValueError, UnicodeError):
            raise InvalidToken(INVALID) from None

    def url(self, path: str, token: str) -> str:
        """``path`` is :data:`MORE_LIKE_THIS` or :data:`NOT_FOR_ME`."""
        return f"{self.base_url}/{path}/{token}"

    def urls(self, token: str) -> tuple[str, str]:
        """The "More like this" and "Not for me" links of one paper, which share its token."""
        return self.url(MORE_LIKE_THIS, token), self.url(NOT_FOR_ME, token)


def feedback_matches(claims: FeedbackClaims, subscriber: Subscriber | None) -> bool:
    """Whether the link still belongs to this subscriber (not erased, nonce not rotated)."""
    return subscriber is not None and feedback_check(subscriber.token_nonce) == claims.check
