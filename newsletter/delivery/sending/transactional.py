"""Account emails (confirm, manage, welcome, preferences changed) from the ledger's outbox.

They are rendered when sent, from the subscriber as they are at that moment (see
:mod:`newsletter.delivery.ledger.outbox` for why), and sent like digests: what a failure means
and when to retry is decided in :mod:`newsletter.delivery.failures`, and the Message-ID is the
row's own, so a retry after an ambiguous attempt carries the same one.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import datetime
from typing import Any

from newsletter.config import Settings
from newsletter.delivery.failures import outcome_for
from newsletter.delivery.ledger.outbox import AccountClaim, Recipient
from newsletter.delivery.ledger.outcomes import Outcome
from newsletter.delivery.messages.headers import delivery_message_id
from newsletter.delivery.messages.message import build_message_bytes, validate_address
from newsletter.delivery.sending.transport import Transport
from newsletter.errors import InvalidInput, PermanentDeliveryError
from newsletter.inbound.verp import bounce_address
from newsletter.render import render_email
from newsletter.render.contexts import (
    confirm_context,
    manage_context,
    preferences_changed_context,
    welcome_context,
)
from newsletter.store.models import DeliveryKind, DeliveryStatus
from newsletter.tokens import Purpose, link

log = logging.getLogger(__name__)
K = DeliveryKind


def account_email_context(
    settings: Settings, kind: DeliveryKind, subscriber: Recipient
) -> dict[str, Any]:
    """The template context of one account email; pure apart from signing its links."""
    email = subscriber.email
    topics = list(subscriber.topics)
    if kind is K.CONFIRM:
        return confirm_context(
            settings, email=email, confirm_url=link(settings, Purpose.CONFIRM, subscriber),
            topics=topics,
        )
    preferences = link(settings, Purpose.PREFERENCES, subscriber)
    unsubscribe = link(settings, Purpose.UNSUBSCRIBE, subscriber)
    if kind is K.MANAGE:
        return manage_context(
            settings, email=email, preferences_url=preferences, unsubscribe_url=unsubscribe
        )
    make = welcome_context if kind is K.WELCOME else preferences_changed_context
    return make(
        settings, email=email, preferences_url=preferences, unsubscribe_url=unsubscribe,
        topics=topics, frequency=subscriber.frequency.value, send_hour=subscriber.send_hour,
        timezone=subscriber.timezone,
    )


def compose_account_email(
    settings: Settings, claim: AccountClaim, now: datetime
) -> tuple[str, str, bytes]:
    """(recipient, Message-ID, bytes). A confirm email has no List-Unsubscribe: the person is
    not on the list yet."""
    subscriber = claim.subscriber
    recipient = validate_address(subscriber.email)
    message_id = delivery_message_id(settings, claim.id, claim.created_at)
    unsubscribe = (
        None if claim.kind is K.CONFIRM else link(settings, Purpose.UNSUBSCRIBE, subscriber)
    )
    data = build_message_bytes(
        settings, to=recipient,
        rendered=render_email(claim.kind.value, account_email_context(settings, claim.kind,
                                                                      subscriber)),
        now=now, unsubscribe_url=unsubscribe, message_id=message_id,
    )
    return recipient, message_id, data


async def deliver_account_email(
    claim: AccountClaim,
    transport: Transport,
    settings: Settings,
    rng: random.Random,
    clock: Callable[[], datetime],
) -> Outcome:
    """Like ``deliver_one`` for digests: every failure becomes the row's outcome, except a
    configuration error, which stops the sender (see ``failures.stops_sender``)."""
    at = clock()
    tries = claim.attempts + 1
    message_id: str | None = None
    try:
        try:
            recipient, message_id, data = compose_account_email(settings, claim, at)
        except InvalidInput as exc:
            raise PermanentDeliveryError(str(exc)) from exc
        # The return path names the row (VERP), so a bounce of a confirmation finds it too.
        reply = await transport.send_raw(bounce_address(settings, claim.id), recipient, data)
    except Exception as exc:  # its meaning, and whether to retry, is failures' decision
        return outcome_for(
            exc, delivery_id=claim.id, subscriber_id=claim.subscriber_id, tries=tries,
            created_at=claim.created_at, at=at, settings=settings, rng=rng, message_id=message_id,
        )
    return Outcome(claim.id, claim.subscriber_id, DeliveryStatus.SENT, tries, at, reply=reply,
                   message_id=message_id)
