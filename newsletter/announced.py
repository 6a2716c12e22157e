"""The day a paper was announced: the one date a reader, trending and the digest all mean.

Hugging Face's featured day comes first (that is the day it was listed and voted on), then the
publication date from arXiv or a file. The day a row was stored says nothing about the paper:
an ingest run with ``--date`` stores year-old papers today.
"""

from __future__ import annotations

from datetime import UTC, date, datetime


def announced_on(featured_on: date | None, published_at: datetime | None) -> date | None:
    if featured_on is not None:
        return featured_on
    if published_at is None:
        return None
    moment = published_at if published_at.tzinfo else published_at.replace(tzinfo=UTC)
    return moment.astimezone(UTC).date()
