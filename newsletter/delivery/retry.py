"""When to try a temporary failure again (RFC 5321 section 4.5.4.1: retry, with spacing).

The delay doubles from ``delivery_backoff_seconds`` and is spread by random jitter in
[0.5, 1.5) so that a relay that was down for a minute is not hit by every retry at once. The
``random.Random`` is passed in, so tests get the same schedule every run. A delivery gives up
after ``delivery_max_attempts`` tries, or once its next try would fall after
``delivery_max_age_hours`` from when it was queued: yesterday's digest is not worth sending.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from newsletter.config import Settings

MAX_DELAY = timedelta(hours=6)


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
