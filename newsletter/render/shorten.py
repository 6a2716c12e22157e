"""Shortening text for a line: always at a word boundary, never inside a word."""

from __future__ import annotations

ELLIPSIS = "…"
_TRAILING = " ,;:.-–—(/"


def cut_at_word(text: str, limit: int) -> str:
    """At most ``limit`` characters (the ellipsis included) ending on a whole word.

    A first word longer than ``limit`` is kept whole: a cut word reads as a typo
    ("...Models Req…"), a long line only as long.
    """
    clean = " ".join(text.split())
    if len(clean) <= limit:
        return clean
    room = clean[: max(limit - len(ELLIPSIS), 0) + 1]
    head = room.rsplit(" ", 1)[0] if " " in room else ""
    head = head.rstrip(_TRAILING)
    if not head:
        first = clean.split(" ", 1)[0]
        return first if first == clean else first + ELLIPSIS
    return head + ELLIPSIS
