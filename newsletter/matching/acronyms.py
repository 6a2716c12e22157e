"""Acronyms learned from the papers themselves, never from a hand-kept list.

Abstracts define their acronyms ("automatic speech recognition (ASR)"); we read those definitions
(after Schwartz & Hearst, 2003) and replace each use of the short form by its long form. A paper
that defines ASR as "attack success rate" keeps that meaning, so it does not meet a speech topic;
a topic's own acronyms take the corpus meaning that fits the rest of the topic's words best.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from functools import lru_cache
from types import MappingProxyType

from newsletter.matching.text import fold, raw_words

_PARENTHESIS = re.compile(r"\(\s*([^\W_][\w\-]{1,11}?)\s*[;,)]")
# An undefined acronym takes the corpus meaning only when this share of definitions agrees.
DOMINANT_SHARE = 0.8


def looks_like_acronym(word: str) -> bool:
    if word.islower() or not word[0].isalnum():
        return False
    return sum(ch.isupper() for ch in word) >= 2


def _base(word: str) -> str:
    """ "LLMs" is the plural of "LLM"."""
    return word[:-1] if word.endswith("s") and looks_like_acronym(word[:-1]) else word


def _long_form(short: str, before: list[str]) -> str | None:
    """Shortest run of preceding words whose letters spell ``short``, each word start aligned."""
    letters = [ch for ch in fold(short) if ch.isalnum()]
    text = " ".join(before).lower()
    si, li = len(letters) - 1, len(text) - 1
    while si >= 0:
        ch = letters[si]
        while li >= 0 and (text[li] != ch or (si == 0 and li > 0 and text[li - 1].isalnum())):
            li -= 1
        if li < 0:
            return None
        si, li = si - 1, li - 1
    long_form = text[text.rfind(" ", 0, li + 1) + 1 :]
    n_words = len(long_form.split())
    if not 1 <= n_words <= len(letters) + 2 or fold(long_form) == fold(short):
        return None
    return long_form


@lru_cache(maxsize=8192)
def definitions(text: str) -> Mapping[str, str]:
    """Short form -> long form for each "long form (SF)" in ``text`` (first definition wins)."""
    found: dict[str, str] = {}
    for match in _PARENTHESIS.finditer(text):
        short = _base(match.group(1))
        if not looks_like_acronym(short) or short in found:
            continue
        before = raw_words(text[max(0, match.start() - 200) : match.start()])
        long_form = _long_form(short, before[-min(len(short) + 5, 2 * len(short)) :])
        if long_form:
            found[short] = long_form
    return MappingProxyType(found)  # cached: callers share it


class AcronymTable:
    """All definitions seen in a corpus, to read acronyms a paper or a topic leaves undefined."""

    def __init__(self, texts: Iterable[str] = ()) -> None:
        self._seen: defaultdict[str, Counter[str]] = defaultdict(Counter)
        for text in texts:
            for short, long_form in definitions(text).items():
                self._seen[short][long_form] += 1

    def meanings(self, word: str) -> list[str]:
        return [long for long, _ in self._seen.get(_base(word), Counter()).most_common()]

    def dominant(self, word: str) -> str | None:
        counts = self._seen.get(_base(word))
        if not counts:
            return None
        long_form, n = counts.most_common(1)[0]
        return long_form if n >= DOMINANT_SHARE * sum(counts.values()) else None

    def expander(self, text: str) -> dict[str, str]:
        """How to read the acronyms of one paper: its own definitions, else dominant ones."""
        own = definitions(text)
        table: dict[str, str] = {}
        for word in set(raw_words(text)):
            if not looks_like_acronym(word):
                continue
            long_form = own.get(_base(word)) or self.dominant(word)
            if long_form:
                table[word] = long_form
        return table
