"""Checking one raw value from a listing: its type, its size, and its cleaned form.

Each check raises :class:`BadItem` naming the field, so the reason reported for a skipped item
tells the operator exactly what was wrong with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from newsletter.errors import BadItem
from newsletter.sources.plaintext import collapse_spaces, plain_text

MAX_URL = 500  # the column width
MAX_NAME = 200
MAX_LIST = 2_000  # authors, categories or keywords of one paper
# The largest count every backend stores: PostgreSQL's INTEGER is 32-bit signed, and SQLite
# refuses integers past 64 bits. Popularity beyond two billion is the same popularity.
MAX_COUNT = 2**31 - 1


def text_field(value: object, field: str, limit: int, *, html: bool = True) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadItem(f"{field} must be a string, not {type(value).__name__}")
    if len(value) > limit * 4:  # refuse before parsing megabytes of markup
        raise BadItem(f"{field} is longer than {limit} characters")
    text = plain_text(value) if html else collapse_spaces(value)
    if len(text) > limit:
        raise BadItem(f"{field} is longer than {limit} characters")
    return text


def count_field(value: object, field: str) -> int:
    """Counts are clipped to :data:`MAX_COUNT`, so one absurd number cannot fail a batch."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadItem(f"{field} must be a non-negative integer")
    return min(value, MAX_COUNT)


def url_field(value: object, field: str) -> str | None:
    """Optional links: a missing, relative or overlong one is dropped, not the whole paper."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadItem(f"{field} must be a string URL")
    url = value.strip()
    if not url.startswith(("https://", "http://")) or len(url) > MAX_URL or " " in url:
        return None
    return url


def names_field(
    value: object, field: str, clean: Callable[[str], str] = plain_text
) -> tuple[str, ...]:
    """Distinct names in listing order; linear in the list (a dict, not a scan per name), and
    refused as soon as it passes :data:`MAX_LIST`, before cleaning the rest."""
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise BadItem(f"{field} must be a list of strings")
    names: dict[str, None] = {}
    for item in value:
        if not isinstance(item, str):
            raise BadItem(f"{field} must be a list of strings")
        if len(item) > MAX_NAME * 4:
            item = item[: MAX_NAME * 4]
        name = clean(item)[:MAX_NAME]
        if name:
            names[name] = None
            if len(names) > MAX_LIST:
                raise BadItem(f"{field} has more than {MAX_LIST} entries")
    return tuple(names)
