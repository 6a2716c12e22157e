"""Dates as listings print them, read into aware UTC values.

Everything is converted to UTC before it is stored: SQLite keeps datetimes without an offset, so a
value written in another zone would come back silently shifted.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime

from newsletter.clock import as_utc
from newsletter.errors import BadItem

_WITH_YEAR = ("%b %d, %Y", "%B %d, %Y", "%d %b %Y", "%d %B %Y")
_WITHOUT_YEAR = ("%b %d", "%B %d")


def parse_iso(value: object, field: str) -> datetime | None:
    """``2024-02-19T17:08:18.000Z`` or ``2024-02-19``; None and "" mean unknown."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadItem(f"{field} must be a date string")
    try:
        return as_utc(datetime.fromisoformat(value.strip().replace("Z", "+00:00")))
    except ValueError:
        raise BadItem(f"{field} is not an ISO date: {value[:40]!r}") from None


def parse_rfc2822(value: str | None, field: str) -> datetime | None:
    """RSS ``pubDate``: ``Mon, 15 Jan 2024 00:00:00 -0500``."""
    if not value or not value.strip():
        return None
    try:
        return as_utc(parsedate_to_datetime(value.strip()))
    except (TypeError, ValueError):
        raise BadItem(f"{field} is not an RFC 2822 date: {value[:40]!r}") from None


def parse_listing_date(value: object, field: str, *, now: datetime) -> datetime | None:
    """``Feb 19, 2024``, or ``Jun 22`` meaning the latest such day not after ``now``; ISO too."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadItem(f"{field} must be a date string")
    text = " ".join(value.split())
    for pattern in _WITH_YEAR:
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=UTC)
        except ValueError:
            pass
    today = as_utc(now).date()
    for pattern in _WITHOUT_YEAR:
        for year in range(today.year, today.year - 8, -1):  # Feb 29 waits for a leap year
            try:
                day = datetime.strptime(f"{text} {year}", f"{pattern} %Y").date()
            except ValueError:
                continue
            if day <= today:
                return datetime(day.year, day.month, day.day, tzinfo=UTC)
    return parse_iso(text, field)


def parse_day(value: object, field: str) -> date | None:
    """A calendar day from ``2024-02-19`` or a full ISO timestamp (its UTC date)."""
    moment = parse_iso(value, field)
    return moment.date() if moment is not None else None
