"""How much a reader's past verdict still counts: recent ones steer, old ones fade slowly.

Tastes drift, so a "more like this" from last year should weigh less than one from last week, but
never flip: the weight halves every ``HALF_LIFE_DAYS`` and stays positive.
"""

from __future__ import annotations

HALF_LIFE_DAYS = 120.0


def fade(age_days: float) -> float:
    """The weight of a verdict given ``age_days`` ago: 1 today, 0.5 after one half-life."""
    return float(0.5 ** (max(age_days, 0.0) / HALF_LIFE_DAYS))
