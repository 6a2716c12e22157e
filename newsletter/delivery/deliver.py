"""One claimed delivery, composed and sent, always ending in an :class:`Outcome`."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import datetime

from newsletter.config import Settings
from newsletter.delivery.compose import Composer, NothingToSend
from newsletter.delivery.ledger import Claimed
from newsletter.delivery.outcomes import Outcome
from newsletter.delivery.retry import retry_at
from newsletter.delivery.transport import Transport
from newsletter.errors import (
    AmbiguousDeliveryError,
    InvalidInput,
    PermanentDeliveryError,
    TemporaryDeliveryError,
)
from newsletter.store.models import DeliveryStatus

log = logging.getLogger(__name__)
S = DeliveryStatus


async def deliver_one(
    claim: Claimed,
    composer: Composer,
    transport: Transport,
    settings: Settings,
    rng: random.Random,
    clock: Callable[[], datetime],
) -> Outcome:
    """Never raises: a bad address, a refusal or a bug in one message is that row's outcome."""
    at = clock()
    tries = claim.attempts + 1
    row = (claim.id, claim.subscriber_id)
    try:
        recipient, message_id, data = composer.compose(claim, at)
    except NothingToSend as exc:
        return Outcome(*row, S.SUPPRESSED, claim.attempts, at, reply=str(exc))
    except InvalidInput as exc:
        return Outcome(*row, S.FAILED, tries, at, reply=str(exc), hard_bounce=True)
    except Exception as exc:  # a template bug must not stop the batch; the row retries later
        log.exception("delivery %s could not be composed", claim.id)
        return _retry(claim, settings, rng, at, tries, f"internal error: {exc!r}")
    try:
        reply = await transport.send_raw(settings.sender_address, recipient, data)
    except PermanentDeliveryError as exc:
        return Outcome(*row, S.FAILED, tries, at, reply=str(exc), hard_bounce=True)
    except AmbiguousDeliveryError as exc:
        return Outcome(*row, S.AMBIGUOUS, tries, at, reply=str(exc), message_id=message_id)
    except TemporaryDeliveryError as exc:
        return _retry(claim, settings, rng, at, tries, str(exc))
    except Exception as exc:
        log.exception("delivery %s failed unexpectedly", claim.id)
        return _retry(claim, settings, rng, at, tries, f"internal error: {exc!r}")
    return Outcome(*row, S.SENT, tries, at, reply=reply, message_id=message_id)


def _retry(
    claim: Claimed, settings: Settings, rng: random.Random, at: datetime, tries: int, reply: str
) -> Outcome:
    when = retry_at(settings, rng, attempts=tries, created_at=claim.created_at, now=at)
    if when is None:
        return Outcome(claim.id, claim.subscriber_id, S.FAILED, tries, at,
                       reply=f"gave up after {tries} attempts: {reply}")
    return Outcome(claim.id, claim.subscriber_id, S.PENDING, tries, at, reply=reply,
                   next_attempt_at=when)
