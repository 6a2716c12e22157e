"""Turning titles, abstracts and topic words into comparable tokens."""

from __future__ import annotations

import re
import unicodedata

_TOKEN = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")


def fold(text: str) -> str:
    """Lower case without accents, so "Schölkopf" and "Scholkopf" meet."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    return _TOKEN.findall(fold(text))


def contains_phrase(haystack: list[str], phrase: list[str]) -> bool:
    n = len(phrase)
    if n == 0:
        return False
    return any(haystack[i : i + n] == phrase for i in range(len(haystack) - n + 1))


def count_phrase(haystack: list[str], phrase: list[str]) -> int:
    n = len(phrase)
    if n == 0:
        return 0
    return sum(1 for i in range(len(haystack) - n + 1) if haystack[i : i + n] == phrase)
