"""Shortening text for one line (subjects, previews, why-lines): always at a word boundary,
never inside a word."""

from __future__ import annotations

ELLIPSIS = "…"
_TRAILING = " ,;:.-–—(/"
# Words a shortened line must not end on: they promise a rest that the ellipsis drops.
DANGLING = frozenset(
    {"a", "an", "and", "as", "at", "by", "for", "from", "in", "of", "on", "or", "the", "to",
     "via", "with"}
)


def cut_at_word(text: str, limit: int, *, strict: bool = False) -> str:
    """At most ``limit`` characters (the ellipsis included) ending on a whole word, and not on
    a word that leaves the rest hanging ("Instruction tuning and…").

    A first word longer than ``limit`` is kept whole: a cut word reads as a typo
    ("...Models Req…"), a long line only as long. ``strict`` cuts it instead, for a line
    whose length is fixed (a why-line on a phone).
    """
    clean = " ".join(text.split())
    if len(clean) <= limit:
        return clean
    room = clean[: max(limit - len(ELLIPSIS), 0) + 1]
    words = (room.rsplit(" ", 1)[0] if " " in room else "").rstrip(_TRAILING).split(" ")
    while len(words) > 1 and words[-1].lower() in DANGLING:
        words.pop()
    head = " ".join(words).rstrip(_TRAILING)
    if not head:
        if strict:
            return clean[: max(limit - len(ELLIPSIS), 1)] + ELLIPSIS
        first = clean.split(" ", 1)[0]
        return first if first == clean else first + ELLIPSIS
    return head + ELLIPSIS
