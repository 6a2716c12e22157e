"""Turning titles, abstracts and topic words into comparable terms.

Papers and topics must meet on the same terms: "Quantized", "quantization" and "quantizing" are
one stem, "pre-training" and "pretraining" one word, and a phrase like "code review" is kept as a
bigram so that it weighs more than "code" and "review" seen apart.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from functools import lru_cache
from itertools import pairwise

import snowballstemmer  # type: ignore[import-untyped]
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

_RAW_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")
_NON_WORD = re.compile(r"[\W_]+")
# A sentence ends at . ! or ? followed by space and a capital, digit or bracket.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[A-Z0-9])")
# snowballstemmer runs on PyStemmer's C code when that is installed (it is a dependency).
_STEMMER = snowballstemmer.stemmer("english")


def fold(text: str) -> str:
    """Lower case without accents, so "Schölkopf" and "Scholkopf" meet."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def raw_words(text: str) -> list[str]:
    """Words as written (case kept: acronyms are recognised by their capitals)."""
    return _RAW_WORD.findall(text)


def words(text: str) -> list[str]:
    """Folded words with hyphens split: for exact look-ups such as author names, and for stems.

    The parts of :func:`raw_words` split at hyphens and apostrophes are exactly the runs between
    non-word characters, which one split finds faster (stems of words are on a hot path)."""
    return [part for part in _NON_WORD.split(fold(text)) if part]


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text.strip()) if s]


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    return str(_STEMMER.stemWord(word))


@lru_cache(maxsize=200_000)
def _plain_pairs(word: str) -> tuple[tuple[str, str], ...]:
    """A word without hyphens reads the same whatever the corpus: cached across runs."""
    folded = fold(word)
    return ((stem(folded), folded),) if is_content(folded) else ()


def is_content(word: str) -> bool:
    return len(word) > 1 and word not in ENGLISH_STOP_WORDS and not word.isdigit()


def with_bigrams(terms: list[str]) -> list[str]:
    """Unigrams plus adjacent pairs: phrases count as more than their words."""
    return terms + [f"{a} {b}" for a, b in pairwise(terms)]


class StandIn(str):
    """A word as written that stands for a term it does not spell alone: the hyphenated word a
    part comes from ("clinical-longformer" for "clinic"), or the acronym a long form was
    expanded from ("AI" for "artifici"). A reason shows it only where the paper never writes
    the term itself."""

    __slots__ = ()


class Tokenizer:
    """Words to stems, with hyphenation settled by the corpus itself.

    "pre-training" becomes "pretraining" when the corpus also writes "pretraining", and
    "vision" + "language" otherwise; no list of prefixes needs to be kept by hand.
    """

    def __init__(self, closed_forms: Iterable[str] = ()) -> None:
        self.closed_forms = frozenset(closed_forms)
        self._known: dict[str, tuple[tuple[str, str], ...]] = {}

    @staticmethod
    def closed_words(texts: Iterable[str]) -> set[str]:
        """Unhyphenated words of a corpus, the evidence for joining hyphenated ones."""
        return {fold(w) for text in texts for w in raw_words(text) if "-" not in w}

    def split(self, word: str) -> list[str]:
        folded = fold(word).replace("'", "-")
        if "-" not in folded:
            return [folded]
        joined = folded.replace("-", "")
        if joined in self.closed_forms:
            return [joined]
        return [part for part in folded.split("-") if part]

    def pairs(
        self, text: str, expand: Callable[[str], str | None] | None = None
    ) -> list[tuple[str, str]]:
        """(stem, word as written) for the content words of ``text``.

        ``expand`` may replace an acronym by its long form, as the paper defined it; its terms
        are then written as the acronym, the word the text holds.
        """
        out: list[tuple[str, str]] = []
        known = self._known
        for word in raw_words(text):
            long_form = expand(word) if expand else None
            if long_form is not None:
                out.extend((term, StandIn(word)) for term, _ in self.pairs(long_form))
                continue
            if "-" not in word and "'" not in word:
                out.extend(_plain_pairs(word))
                continue
            found = known.get(word)
            if found is None:
                # Each part stands in as the whole word: "multi" alone would read as a fragment.
                parts = self.split(word)
                shown = parts[0] if len(parts) == 1 else StandIn(fold(word))
                found = tuple((stem(part), shown) for part in parts if is_content(part))
                known[word] = found
            out.extend(found)
        return out

    def terms(self, text: str, expand: Callable[[str], str | None] | None = None) -> list[str]:
        return [term for term, _ in self.pairs(text, expand)]
