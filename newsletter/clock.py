"""The one real clock.

Everything that needs the time takes a ``clock`` parameter that defaults to :func:`utc_now`, so
tests and benchmarks pass their own and matching and rendering stay pure.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    """Now, timezone-aware in UTC: naive datetimes never enter the product."""
    return datetime.now(UTC)
