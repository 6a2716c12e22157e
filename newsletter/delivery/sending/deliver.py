"""One claimed delivery, composed and sent, always ending in an :class:`Outcome`.

What a failure means and when to retry is decided in :mod:`newsletter.delivery.failures`.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import datetime

from newsletter.config import Settings
from newsletter.delivery.failures import outcome_for
from newsletter.delivery.ledger.claims import Claimed
from newsletter.delivery.ledger.outcomes import Outcome
from newsletter.delivery.messages.compose import NothingToSend
from newsletter.delivery.sending.preparing import Composes
from newsletter.delivery.sending.transport import Transport
from newsletter.errors import InvalidInput, PermanentDeliveryError
from newsletter.store.models import DeliveryStatus

log = logging.getLogger(__name__)
S = DeliveryStatus


async def deliver_one(
    claim: Claimed,
    composer: Composes,
    transport: Transport,
    settings: Settings,
    rng: random.Random,
    clock: Callable[[], datetime],
) -> Outcome:
    """Raises only what stops the sender (``failures.stops_sender``); a bad address, a refusal
    or a bug in one message is that row's outcome."""
    at = clock()
    tries = claim.attempts + 1
    message_id: str | None = None
    try:
        try:
            sender, recipient, message_id, data = composer.compose(claim, at)
        except NothingToSend as exc:
            return Outcome(claim.id, claim.subscriber_id, S.SUPPRESSED, claim.attempts, at,
                           reply=str(exc))
        except InvalidInput as exc:  # an address no relay would take: a permanent failure
            raise PermanentDeliveryError(str(exc)) from exc
        reply = await transport.send_raw(sender, recipient, data)
    except Exception as exc:  # its meaning, and whether to retry, is failures' decision
        return outcome_for(
            exc, delivery_id=claim.id, subscriber_id=claim.subscriber_id, tries=tries,
            created_at=claim.created_at, at=at, settings=settings, rng=rng, message_id=message_id,
        )
    return Outcome(claim.id, claim.subscriber_id, S.SENT, tries, at, reply=reply,
                   message_id=message_id)
