"""The one real clock.

Everything that needs the time takes a ``clock`` parameter that defaults to :func:`utc_now`, so
tests and benchmarks pass their own and matching and rendering stay pure.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    """Now, timezone-aware in UTC: naive datetimes never enter the product."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Naive values are taken as UTC: that is how SQLite hands back what we stored."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
