"""The retry schedule: doubling, jittered from the injected random, bounded by attempts and age."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta

from newsletter.config import Settings
from newsletter.delivery.retry import retry_at
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
