"""The one place that decides what a failed send means and when to try again.

Every failure of one delivery ends here, as procrastinate keeps "retry or not, and when" in one
retry strategy:

* An SMTP reply becomes one of our errors (:func:`classify`): 4xx, and 552 (RFC 5321 lets it be
  read as "try later"), are temporary; other 5xx are permanent. 421 means the channel is gone:
  :class:`ChannelClosed` tells the pool to reconnect and resend on a fresh connection.
* An error becomes the delivery's next state (:func:`outcome_for`): permanent failures fail the
  row and count as a hard bounce; an ambiguous one (the link died after the final ``.``) is never
  resent automatically, because the relay may have queued it and a duplicate digest is worse than
  a rare miss; temporary ones are retried on the schedule of :func:`retry_at`.
* A bounce that comes back by mail (a DSN's RFC 3463 status, :func:`bounce_is_hard`): an address
  that does not exist or cannot be routed to is hard and suppresses the subscriber at once; a full
  mailbox, a policy refusal or any 4.x.x is soft and counts toward the same limit as the
  permanent SMTP failures above. A bounce arrives after the relay took the message, so the
  next accepted send would reset the count; soft bounces of the last ``SOFT_BOUNCE_MEMORY``
  therefore keep counting (Mailman forgets a bounce score after a week without bounces; two
  weeks here, so that weekly digests can reach the limit too).
* The schedule (RFC 5321 section 4.5.4.1: retry, with spacing): the delay doubles from
  ``delivery_backoff_seconds`` and is spread by random jitter in [0.5, 1.5) so that a relay that
  was down for a minute is not hit by every retry at once. The ``random.Random`` is passed in, so
  tests get the same schedule every run. A delivery gives up after ``delivery_max_attempts``
  tries, or once its next try would fall after ``delivery_max_age_hours`` from when it was
  queued: yesterday's digest is not worth sending.
* A configuration error (:func:`stops_sender`: the relay's certificate does not verify, TLS is
  required and not offered) is no delivery's fault and no retry can fix it: the sender stops
  at once and loudly, and the rows it held go back to ``pending`` with their attempts untouched,
  to be sent once the operator has fixed the setting.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

from newsletter.config import Settings
from newsletter.delivery.ledger.outcomes import Outcome
from newsletter.errors import (
    AmbiguousDeliveryError,
    ConfigurationError,
    DeliveryError,
    PermanentDeliveryError,
    TemporaryDeliveryError,
)
from newsletter.store.models import DeliveryStatus

log = logging.getLogger(__name__)
MAX_DELAY = timedelta(hours=6)
S = DeliveryStatus


class ChannelClosed(TemporaryDeliveryError):
    """421 or a dropped link before the body: reconnecting and resending is safe."""


def classify(code: int, message: str) -> DeliveryError:
    """A server's negative reply as our error; 421 closes the channel."""
    text = " ".join(message.split())[:500]
    if code == 421:
        return ChannelClosed(text, code=code)
    if 500 <= code < 600 and code != 552:
        return PermanentDeliveryError(text, code=code)
    return TemporaryDeliveryError(text, code=code)


def stops_sender(error: BaseException) -> bool:
    """Whether ``error`` must stop the sender instead of becoming the delivery's outcome."""
    return isinstance(error, ConfigurationError)


def retry_at(
    settings: Settings, rng: random.Random, *, attempts: int, created_at: datetime, now: datetime
) -> datetime | None:
    """When to try again after ``attempts`` failed tries, or None to give up."""
    if attempts >= settings.delivery_max_attempts:
        return None
    base = settings.delivery_backoff_seconds * 2 ** max(attempts - 1, 0)
    delay = min(timedelta(seconds=base * rng.uniform(0.5, 1.5)), MAX_DELAY)
    when = now + delay
    if when > created_at + timedelta(hours=settings.delivery_max_age_hours):
        return None
    return when


def outcome_for(
    error: Exception,
    *,
    delivery_id: int,
    subscriber_id: int,
    tries: int,
    created_at: datetime,
    at: datetime,
    settings: Settings,
    rng: random.Random,
    message_id: str | None = None,
) -> Outcome:
    """The next state of a delivery whose try number ``tries`` failed with ``error``.

    Anything that is not one of our delivery errors (a bug, a template error) is logged and
    treated as temporary: the row is retried later and the batch goes on. An error that must
    stop the sender (:func:`stops_sender`) is raised again instead.
    """
    if stops_sender(error):  # a setting is wrong: the sender stops, the row stays pending
        raise error
    if not isinstance(error, DeliveryError):  # a template bug must not stop the batch
        log.error("delivery %s failed unexpectedly", delivery_id, exc_info=error)
    row = (delivery_id, subscriber_id)
    if isinstance(error, PermanentDeliveryError):
        return Outcome(*row, S.FAILED, tries, at, reply=str(error), hard_bounce=True)
    if isinstance(error, AmbiguousDeliveryError):
        return Outcome(*row, S.AMBIGUOUS, tries, at, reply=str(error), message_id=message_id)
    reply = str(error) if isinstance(error, DeliveryError) else f"internal error: {error!r}"
    when = retry_at(settings, rng, attempts=tries, created_at=created_at, now=at)
    if when is None:
        return Outcome(*row, S.FAILED, tries, at, reply=f"gave up after {tries} attempts: {reply}")
    return Outcome(*row, S.PENDING, tries, at, reply=reply, next_attempt_at=when)


SOFT_BOUNCE_MEMORY = timedelta(days=14)

# RFC 3463 / RFC 7505 statuses that say the address itself is dead. X.1.5 (valid), X.1.7 and X.1.8
# (our sender address) and X.1.9 are not about the recipient and stay soft.
_HARD_BOUNCES = frozenset(
    {"5.1.0", "5.1.1", "5.1.2", "5.1.3", "5.1.4", "5.1.6", "5.1.10", "5.2.1", "5.4.4"}
)


def bounce_is_hard(status: str) -> bool:
    """Whether a bounce with this enhanced status code ("5.1.1") suppresses the address at once."""
    return status.strip() in _HARD_BOUNCES
