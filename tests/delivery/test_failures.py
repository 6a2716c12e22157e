"""The one failure decision: SMTP replies classified, outcomes chosen, retries scheduled."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta

import pytest

from newsletter.config import Settings
from newsletter.delivery.failures import ChannelClosed, classify, outcome_for, retry_at
from newsletter.delivery.ledger.outcomes import Outcome
from newsletter.errors import AmbiguousDeliveryError, PermanentDeliveryError, TemporaryDeliveryError
from newsletter.store.models import DeliveryStatus
from tests.delivery.helpers import NOW


def test_backoff_doubles_with_jitter_and_gives_up(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(delivery_backoff_seconds=60, delivery_max_attempts=5,
                             delivery_max_age_hours=48)
    rng = random.Random(1)
    delays = []
    for attempts in range(1, 5):
        when = retry_at(settings, rng, attempts=attempts, created_at=NOW, now=NOW)
        assert when is not None
        delays.append((when - NOW).total_seconds())
    for n, delay in enumerate(delays):
        assert 30 * 2**n <= delay < 90 * 2**n
    assert retry_at(settings, rng, attempts=5, created_at=NOW, now=NOW) is None
    same = [retry_at(settings, random.Random(1), attempts=1, created_at=NOW, now=NOW)
            for _ in range(2)]
    assert same[0] == same[1]


def test_no_retry_past_the_maximum_age(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(delivery_backoff_seconds=3600, delivery_max_age_hours=2)
    late = NOW + timedelta(hours=1, minutes=50)
    assert retry_at(settings, random.Random(1), attempts=1, created_at=NOW, now=late) is None


def _outcome(settings: Settings, error: Exception, tries: int = 1) -> Outcome:
    return outcome_for(error, delivery_id=7, subscriber_id=3, tries=tries, created_at=NOW, at=NOW,
                       settings=settings, rng=random.Random(1), message_id="<m@x>")


@pytest.mark.parametrize(
    ("code", "kind"),
    [(421, ChannelClosed), (450, TemporaryDeliveryError), (451, TemporaryDeliveryError),
     (452, TemporaryDeliveryError), (454, TemporaryDeliveryError),
     (550, PermanentDeliveryError), (552, TemporaryDeliveryError),
     (554, PermanentDeliveryError)],
)
def test_replies_are_classified_once(code: int, kind: type[Exception]) -> None:
    error = classify(code, "  some\r\n  reply ")
    assert type(error) is kind
    assert str(error).endswith("some reply")


def test_each_error_leads_to_one_next_state(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(delivery_max_attempts=3)
    failed = _outcome(settings, PermanentDeliveryError("550 no such user", code=550))
    assert (failed.status, failed.hard_bounce) == (DeliveryStatus.FAILED, True)
    unsure = _outcome(settings, AmbiguousDeliveryError("lost after the final dot"))
    assert (unsure.status, unsure.message_id, unsure.next_attempt_at) == (
        DeliveryStatus.AMBIGUOUS, "<m@x>", None)
    later = _outcome(settings, TemporaryDeliveryError("451 try later", code=451))
    assert later.status is DeliveryStatus.PENDING
    assert later.next_attempt_at is not None and later.next_attempt_at > NOW
    bug = _outcome(settings, KeyError("template"))
    assert bug.status is DeliveryStatus.PENDING and "internal error" in (bug.reply or "")
    spent = _outcome(settings, TemporaryDeliveryError("451"), tries=3)
    assert spent.status is DeliveryStatus.FAILED and "gave up after 3" in (spent.reply or "")
    assert not spent.hard_bounce
