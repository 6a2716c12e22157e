"""Ordering relevant papers, and the one line under each that says why it was picked."""

from __future__ import annotations

from functools import lru_cache

from newsletter.matching.query import content_stems, plain_form, stem_set, stems
from newsletter.matching.relevance import Judgement
from newsletter.matching.text import is_content
from newsletter.matching.text import words as folded_words
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
    return text if len(text) <= limit else cut_at_word(text, limit, strict=True)


@lru_cache(maxsize=1024)
def _topic(label: str) -> tuple[str, tuple[str, str], int, frozenset[str]]:
    """The line's head, the topic's own name in plain form (its words run together, and the
    initials of two or more: "rl" for "reinforcement learning", else ""), its shortest form's
    length and its stems: worked out once per topic, not per line (a digest's lines for one
    topic are written together), and outside the caches of :func:`plain_form` and
    :func:`stem_set`: a million typed names would push out the matched words they keep for
    every line."""
    head = label[:1].upper() + label[1:]
    words = stems(label)
    content = [word for word in folded_words(label) if is_content(word)]
    initials = plain_form("".join(word[0] for word in content)) if len(content) > 1 else ""
    return head, ("".join(words), initials), len(_shortest(head)), content_stems(words)


def _other_than(name: tuple[str, str], words: tuple[str, ...]) -> tuple[str, ...]:
    """``words`` without the topic's own name (``name``, plain, and its initials): the line
    starts with it."""
    own, initials = name
    # Separators go and stems shorten, so a word shorter than a plain name is not it, and one
    # much longer than the initials is not them ("RAGs" may be).
    n, m = len(own), len(initials) + 2
    for word in words:
        if (len(word) >= n and plain_form(word) == own) or (
            initials and len(word) <= m and plain_form(word) == initials
        ):
            return tuple([w for w in words if plain_form(w) not in name])
    return words


def explain(label: str, judgement: Judgement, limit: int = MAX_WHY) -> str:
    """One short line a subscriber reads at a glance under the paper's title.

    The topic, then the single strongest reason: a followed author, the subscriber's own phrase
    in the title, or the words it shares with the topic. The topic gives way first when the line
    is too long, so the reason stays whole. A pick driven by a liked paper names that paper
    instead of the topic. The topic's own name is not quoted back after itself ("Vision-language
    models — title says "vision-language…""): its other words say more (the reader sees the
    title just above), or, when it is the only one, "in the title" says where in fewer words.
    """
    head, name, shortest, named = _topic(label)
    # The reason's first word may take all but the topic's shortest form ("Continual…"): a
    # whole word in quotes says more than a whole topic name the reader chose themselves.
    room = max(limit - shortest - 3, 20)
    if judgement.followed:
        reason = f"by {judgement.followed}, whom you follow"
    elif judgement.liked:
        # The liked paper says more than the topic's name, and a phone line has room for one
        # of them: the title keeps the line.
        suffix = ", which you liked"
        title = shorten(judgement.liked, max(limit - len(suffix) - 8, 12))
        return f'Like "{title}"{suffix}'
    elif titled := _other_than(name, judgement.in_title):
        reason = _said("title says ", titled, head, named, room, limit)
    elif matched := _other_than(name, judgement.matched):
        reason = _said("about ", matched, head, named, room, limit)
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


def _said(
    lead: str, words: tuple[str, ...], head: str, named: frozenset[str], room: int, limit: int
) -> str:
    """``lead`` and the quoted words in at most ``room`` characters: the first shortened inside
    its quotes if need be (cut after the fact, the line lost its closing quote), then more only
    where the topic, cut at a word to make room, keeps MIN_HEAD characters (a second word is not
    worth the topic's name shrinking further), and none that restates part of the topic's name
    (``named``, its stems): 'Speech recognition — about "ASR"', not '..."ASR", "automatic
    speech"'."""
    space = room - len(lead)
    out = f'"{shorten(words[0], max(space - 2, 4))}"'
    keep = min(len(head), MIN_HEAD)
    for word in words[1:]:
        if stem_set(word) & named:
            continue
        longer = f'{out}, "{word}"'
        if len(longer) > space:
            break
        budget = limit - len(lead) - len(longer) - 3
        if budget < len(head) and (budget < keep or len(shorten(head, budget)) < keep):
            break
        out = longer
    return f"{lead}{out}"
