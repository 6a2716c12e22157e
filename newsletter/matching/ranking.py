"""Ordering relevant papers, and the one line under each that says why it was picked."""

from __future__ import annotations

from newsletter.matching.relevance import Judgement

# Share of the final score that trending may move; relevance keeps the rest.
TRENDING_WEIGHT = 0.2
# A why-line fits one line of a 360 px phone screen at the 11 px phones get (about 56 characters;
# the 12 px of wider screens wrapped wide-lettered lines of 55 on phones).
MAX_WHY = 56
# The topic keeps at least this many characters when the reason needs room.
MIN_HEAD = 24


def blend(relevance: float, trending: float) -> float:
    """Multiplicative so that a paper with no relevance cannot be lifted by popularity."""
    return relevance * (1.0 - TRENDING_WEIGHT + TRENDING_WEIGHT * trending)


def shorten(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 1)].rsplit(" ", 1)[0].rstrip(" ,;:-—")
    return f"{cut or text[: limit - 1]}…"


def _quoted(words: tuple[str, ...], room: int) -> str:
    """As many quoted words as fit in ``room`` characters (at least the first, shortened
    inside its quotes if need be: cut after the fact, the line lost its closing quote)."""
    out = f'"{shorten(words[0], max(room - 2, 4))}"'
    for word in words[1:]:
        longer = f'{out}, "{word}"'
        if len(longer) > room:
            break
        out = longer
    return out


def explain(label: str, judgement: Judgement, limit: int = MAX_WHY) -> str:
    """One short line a subscriber reads at a glance under the paper's title.

    The topic, then the single strongest reason: a followed author, the subscriber's own phrase
    in the title, or the words it shares with the topic. The topic gives way first when the line
    is too long, so the reason stays whole. A pick driven by a liked paper names that paper
    instead of the topic.
    """
    head = label[:1].upper() + label[1:]
    room = max(limit - min(len(head), MIN_HEAD) - 3, 20)
    if judgement.followed:
        reason = f"by {judgement.followed}, whom you follow"
    elif judgement.liked:
        # The liked paper says more than the topic's name, and a phone line has room for one
        # of them: the title keeps the line.
        suffix = ", which you liked"
        title = shorten(judgement.liked, max(limit - len(suffix) - 8, 12))
        return f'Like "{title}"{suffix}'
    elif judgement.in_title:
        reason = f"title says {_quoted(judgement.in_title, room - 10)}"
    elif judgement.matched:
        reason = f"about {_quoted(judgement.matched, room - 6)}"
    else:
        return shorten(head, limit)
    reason = shorten(reason, room)
    head = shorten(head, max(limit - len(reason) - 3, MIN_HEAD))
    return f"{head} — {reason}"
