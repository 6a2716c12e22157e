"""Ordering relevant papers, and the one line under each that says why it was picked."""

from __future__ import annotations

from collections.abc import Callable

from newsletter.matching.query import plain_form
from newsletter.matching.relevance import Judgement
from newsletter.shorten import cut_at_word

# Share of the final score that trending may move; relevance keeps the rest.
TRENDING_WEIGHT = 0.2
# A why-line fits one line of a 360 px phone screen at the 11 px phones get (about 56 characters;
# the 12 px of wider screens wrapped wide-lettered lines of 55 on phones).
MAX_WHY = 56
# The topic keeps at least this many characters when a second reason word wants room.
MIN_HEAD = 24
# ... and its first words, this many characters or more, when the first reason word needs room.
SHORTEST_HEAD = 9


def blend(relevance: float, trending: float) -> float:
    """Multiplicative so that a paper with no relevance cannot be lifted by popularity."""
    return relevance * (1.0 - TRENDING_WEIGHT + TRENDING_WEIGHT * trending)


def shorten(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters, whatever its first word: a why-line is one line."""
    return cut_at_word(text, limit, strict=True)


def _quoted(words: tuple[str, ...], room: int, more: Callable[[int], bool]) -> str:
    """The first word quoted in at most ``room`` characters (shortened inside its quotes if
    need be: cut after the fact, the line lost its closing quote), then as many more as
    ``more`` (given the length so far) allows."""
    out = f'"{shorten(words[0], max(room - 2, 4))}"'
    for word in words[1:]:
        longer = f'{out}, "{word}"'
        if len(longer) > room or not more(len(longer)):
            break
        out = longer
    return out


def _other_than(label: str, words: tuple[str, ...]) -> tuple[str, ...]:
    """``words`` without the topic's own name: the line already starts with it."""
    own = plain_form(label)
    return tuple(w for w in words if plain_form(w) != own)


def explain(label: str, judgement: Judgement, limit: int = MAX_WHY) -> str:
    """One short line a subscriber reads at a glance under the paper's title.

    The topic, then the single strongest reason: a followed author, the subscriber's own phrase
    in the title, or the words it shares with the topic. The topic gives way first when the line
    is too long, so the reason stays whole. A pick driven by a liked paper names that paper
    instead of the topic. The topic's own name is not quoted back after itself ("Vision-language
    models — title says "vision-language…""): its other words say more (the reader sees the
    title just above), or, when it is the only one, "in the title" says where in fewer words.
    """
    head = label[:1].upper() + label[1:]
    # The reason's first word may take all but the topic's shortest form ("Continual…"): a
    # whole word in quotes says more than a whole topic name the reader chose themselves.
    room = max(limit - len(_shortest(head)) - 3, 20)
    titled = _other_than(label, judgement.in_title)
    matched = _other_than(label, judgement.matched)
    if judgement.followed:
        reason = f"by {judgement.followed}, whom you follow"
    elif judgement.liked:
        # The liked paper says more than the topic's name, and a phone line has room for one
        # of them: the title keeps the line.
        suffix = ", which you liked"
        title = shorten(judgement.liked, max(limit - len(suffix) - 8, 12))
        return f'Like "{title}"{suffix}'
    elif titled:
        reason = _said("title says ", titled, head, room, limit)
    elif matched:
        reason = _said("about ", matched, head, room, limit)
    elif judgement.in_title:
        reason = "in the title"
    elif judgement.matched:
        reason = "named in the abstract"
    else:
        return shorten(head, limit)
    reason = shorten(reason, room)
    head = shorten(head, limit - len(reason) - 3)
    return f"{head} — {reason}"


def _shortest(head: str) -> str:
    """The topic's name cut to its first words, 9 characters or more ("AI safety…")."""
    words = head.split(" ")
    kept = 1
    while kept < len(words) and len(" ".join(words[:kept])) < SHORTEST_HEAD:
        kept += 1
    if kept == len(words):
        return head
    return shorten(head, len(" ".join(words[:kept])) + 1)


def _said(lead: str, words: tuple[str, ...], head: str, room: int, limit: int) -> str:
    """``lead`` and the quoted words; a second word only where the topic, cut at a word to make
    room for it, keeps MIN_HEAD characters: it is not worth the topic's name shrinking further."""
    keep = min(len(head), MIN_HEAD)

    def more(quoted: int) -> bool:
        budget = limit - len(lead) - quoted - 3
        return budget >= keep and len(shorten(head, budget)) >= keep

    return f"{lead}{_quoted(words, room - len(lead), more)}"
