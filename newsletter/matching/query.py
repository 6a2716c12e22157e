"""A topic as people type it, turned into a query vector in the corpus's term space.

Label and keywords are the subscriber's own words; the description, when there is one, says the
same thing at length and gets equal weight, so its many words each count for less. Acronyms in the
topic ("ICL", "ASR") take the meaning the corpus defines that best fits the topic's other words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

import numpy as np
import scipy.sparse as sp

from newsletter.matching.acronyms import looks_like_acronym
from newsletter.matching.corpus import Corpus, unit_rows
from newsletter.matching.text import fold, raw_words, stem, with_bigrams, words
from newsletter.preferences import TopicSpec

# Weight of the description against label and keywords (both sides normalised first).
DESCRIPTION_WEIGHT = 1.0
# How many matched words a "why" line shows.
MAX_REASONS = 3
# Typed phrases remembered before the memo starts afresh.
PHRASES_KEPT = 20_000

T = TypeVar("T")


@dataclass(frozen=True)
class TopicQuery:
    vector: sp.csr_matrix
    dense: np.ndarray  # the same vector, for quick look-ups of single terms
    phrases: tuple[tuple[str, tuple[int, ...]], ...]  # typed phrase -> columns it needs
    in_title: tuple[tuple[int, ...], ...]  # distinctive typed phrases, to look for in titles
    excluded: tuple[tuple[int, ...], ...]  # each excluded phrase as term columns, all required


def _meaning(word: str, corpus: Corpus, context: set[str]) -> str | None:
    """Of the long forms the corpus gives ``word``, the one sharing most words with the topic."""
    best: tuple[int, str] | None = None
    for long_form in corpus.acronyms.meanings(word):  # most frequent first: it wins ties
        overlap = len(set(corpus.tokenizer.terms(long_form)) & context)
        if best is None or overlap > best[0]:
            best = (overlap, long_form)
    if best is None:
        return None
    return best[1] if best[0] > 0 else corpus.acronyms.dominant(word)


class _Context:
    """A topic's own words, worked out only if one of its acronyms needs them."""

    def __init__(self, text: str, corpus: Corpus) -> None:
        self._text, self._corpus = text, corpus
        self._terms: set[str] | None = None

    @property
    def terms(self) -> set[str]:
        if self._terms is None:
            self._terms = set(self._corpus.tokenizer.terms(self._text))
        return self._terms


def _phrase_terms(text: str, corpus: Corpus, context: _Context) -> tuple[list[str], list[str]]:
    """Terms of a typed phrase with acronyms spelled out, and the acronyms' own stems apart.

    A phrase without acronyms reads the same in any topic, so it is worked out once per run.
    """
    known = corpus.phrase_cache.get(text)
    if known is not None:
        return known
    words = raw_words(text)
    if not any(looks_like_acronym(word) for word in words):
        found = _spelled_out(words, corpus, set())
        _remember(corpus.phrase_cache, text, found)
        return found
    return _spelled_out(words, corpus, context.terms)


def _typed_phrase(
    text: str, corpus: Corpus, context: _Context
) -> tuple[list[str], list[str], tuple[int, ...] | None]:
    """A label or keyword: its terms, its acronyms' stems, and the columns it needs to occur.

    Remembered whole for a phrase without acronyms: the same keywords recur across thousands
    of readers' topics.
    """
    known = corpus.typed_cache.get(text)
    if known is not None:
        return known
    terms, short = _phrase_terms(text, corpus, context)
    found = terms, short, _columns(_key(terms), corpus)
    if text in corpus.phrase_cache:  # no acronym: the same in every topic
        _remember(corpus.typed_cache, text, found)
    return found


def _remember(cache: dict[str, T], text: str, value: T) -> None:
    """Bounded the simplest way: emptied when full (a plain dict stays C-speed), so a million
    readers' own phrases do not all stay in memory; a forgotten phrase is only worked out again.
    """
    if len(cache) >= PHRASES_KEPT:
        cache.clear()
    cache[text] = value


def _spelled_out(
    words: list[str], corpus: Corpus, context: set[str]
) -> tuple[list[str], list[str]]:
    out: list[str] = []
    short: list[str] = []
    for word in words:
        long_form = _meaning(word, corpus, context) if looks_like_acronym(word) else None
        if long_form:
            out.extend(corpus.tokenizer.terms(long_form))
            short.append(stem(fold(word[:-1] if word.endswith("s") else word)))
        else:
            out.extend(corpus.tokenizer.terms(word))
    return out, short


def _key(terms: list[str]) -> list[str]:
    """What must be present for a phrase to occur: its word pairs, or its single word."""
    return terms if len(terms) < 2 else with_bigrams(terms)[len(terms) :]


def _columns(terms: list[str], corpus: Corpus) -> tuple[int, ...] | None:
    columns = [corpus.term_index(term) for term in terms]
    return None if any(c is None for c in columns) else tuple(c for c in columns if c is not None)


def _unit(vector: sp.csr_matrix) -> sp.csr_matrix:
    return unit_rows(vector)


@dataclass(frozen=True)
class QueryTerms:
    """A topic's terms before weighting: enough to build many topics' vectors in one batch."""

    core: list[str]  # label and keywords, acronyms spelled out, with word pairs
    described: list[str]  # the description's terms with word pairs (empty without one)
    phrases: tuple[tuple[str, tuple[int, ...]], ...]
    in_title: tuple[tuple[int, ...], ...]
    excluded: tuple[tuple[int, ...], ...]


def query_terms(topic: TopicSpec, corpus: Corpus) -> QueryTerms:
    typed = [topic.label, *topic.keywords]
    context = _Context(" ".join([*typed, topic.description]), corpus)
    core: list[str] = []
    phrases: list[tuple[str, tuple[int, ...]]] = []
    for text in typed:
        terms, short, needed = _typed_phrase(text, corpus, context)
        core.extend(with_bigrams(terms) + short)
        if needed:
            phrases.append((text, needed))
    described: list[str] = []
    if topic.description:
        terms, _ = _phrase_terms(topic.description, corpus, context)
        described = with_bigrams(terms)
    # A phrase common to many papers ("language models") says nothing even in a title.
    in_title = tuple(
        cols for _, cols in phrases if max(corpus.idf[c] for c in cols) >= corpus.distinctive_idf
    )
    excluded: list[tuple[int, ...]] = []
    for text in topic.excluded:
        needed = _columns(_key(corpus.tokenizer.terms(text)), corpus)
        if needed:
            excluded.append(needed)
    return QueryTerms(core, described, tuple(phrases), in_title, tuple(excluded))


def query_matrix(terms: Sequence[QueryTerms], corpus: Corpus) -> sp.csr_matrix:
    """Unit query vectors of many topics, one row each, built with two vectoriser calls."""
    both = corpus.vectors([t.core for t in terms] + [t.described for t in terms])
    core, described = _unit(both[: len(terms)]), _unit(both[len(terms) :])
    return _unit(core + DESCRIPTION_WEIGHT * described)


def build_query(topic: TopicSpec, corpus: Corpus) -> TopicQuery:
    terms = query_terms(topic, corpus)
    vector = query_matrix([terms], corpus)
    dense = np.asarray(vector.toarray()).ravel()
    return TopicQuery(vector, dense, terms.phrases, terms.in_title, terms.excluded)


def _repeats(key: str, said: list[str]) -> bool:
    """A word already said, or part of (or containing) one already said, is a repeat.

    ``key`` and ``said``: :func:`plain_form` forms, worked out once per word.
    """
    # A plain loop: a generator costs more than comparing the two or three words said.
    for other in said:  # noqa: SIM110
        if key in other or other in key:
            return True
    return False


@lru_cache(maxsize=100_000)
def plain_form(text: str) -> str:
    """ "Program-repair", "program repair" and "programrepair" say the same thing."""
    return "".join(stems(text))


@lru_cache(maxsize=100_000)
def stem_set(text: str) -> frozenset[str]:
    """Stems of ``text``'s words: "automatic speech" shares one with "speech recognition"."""
    return content_stems(stems(text))


def content_stems(words: list[str]) -> frozenset[str]:
    """Stems of one or two letters ("in", "of") say nothing about what a text is about."""
    return frozenset([w for w in words if len(w) > 2])


def stems(text: str) -> list[str]:
    """The stems of ``text``'s words, in order. Uncached, for text seen once (a typed topic's
    name): :func:`plain_form` and :func:`stem_set` cache the words seen on every line."""
    return [stem(part) for part in words(text)]


def explain_terms(
    terms: QueryTerms, query: Sequence[tuple[int, float]], corpus: Corpus, row: int
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The words that made paper ``row`` match, and the subscriber's phrases its title holds.

    ``query``: the topic's query terms as (column, weight), in column order. A topic has a few
    dozen at most, so each is looked up in the paper's terms (a dict) rather than the paper's
    hundreds of terms being weighed against a dense query: a build explains ten million picks.

    The subscriber's own phrases come first, as they typed them; then the paper's own wording of
    the query's heaviest distinctive terms, or, for a paper that holds none (it came in through
    the widened query), its heaviest term that fewer than half the papers use. Words most papers
    share ("model", "learning") explain nothing and are left out, and nothing is said twice.
    """
    present, titled_columns, folded, held = corpus.row_facts(row)
    shown: list[str] = []
    said: list[str] = []  # the plain form of each shown word
    titled: list[str] = []
    names = corpus.names
    for text, cols in terms.phrases:
        if present.issuperset(cols) and not _repeats(key := plain_form(text), said):
            shown.append(text)
            said.append(key)
            # An acronym's spelled-out words are said with it: not 'about "ASR", "automatic"'.
            said.extend([names[c].replace(" ", "") for c in cols])
            if titled_columns.issuperset(cols):
                titled.append(text)
    weighed = [(weight * q, column) for column, q in query if (weight := held.get(column))]
    weighed.sort(key=_heaviest)  # stable: ties keep column order
    room = MAX_REASONS - len(shown)
    shown.extend(_worded(weighed, corpus.distinctive, corpus, row, folded, said, room))
    if not shown:
        # Nothing distinctive is shared: the pick came through the topic's widened query, and
        # its heaviest word that not every other paper uses still tells the reader why.
        shown.extend(_worded(weighed, corpus.telling, corpus, row, folded, said, 1))
    return tuple(shown[:MAX_REASONS]), tuple(titled)


def _worded(
    weighed: list[tuple[float, int]],
    allowed: list[bool],
    corpus: Corpus,
    row: int,
    folded: str,
    said: list[str],
    room: int,
) -> list[str]:
    """Up to ``room`` of the heaviest query terms paper ``row`` holds, among the columns
    ``allowed``, in the paper's own wording, none repeating what ``said`` holds (they join it),
    a phrase in place of the one word of it already taken (:func:`_held_by`)."""
    wording = corpus.wordings[row]
    out: list[str] = []
    for weight, column in weighed[: 4 * MAX_REASONS]:
        if weight <= 0 or len(out) >= room:
            break
        if not allowed[column]:
            continue
        name = corpus.names[column]
        word = wording.get(name, name)
        # A pair of words the paper never writes side by side ("correlation human") reads as
        # a fragment: only pairs as written are shown.
        if " " in word and fold(word) not in folded:
            continue
        key = plain_form(word)
        if not _repeats(key, said):
            out.append(word)
            said.append(key)
        elif (k := _held_by(key, out, said)) is not None:
            # The phrase holding a word already shown says more: "scaling law", not "law".
            said[said.index(plain_form(out[k]))] = key
            out[k] = word
    return out


def _held_by(key: str, shown: list[str], said: list[str]) -> int | None:
    """Which of ``shown`` is a part of the phrase ``key`` (plain), when it is the only thing
    said that the phrase repeats."""
    parts = [k for k, word in enumerate(shown) if (part := plain_form(word)) in key and part != key]
    if len(parts) != 1:
        return None
    part = plain_form(shown[parts[0]])
    return None if _repeats(key, [other for other in said if other != part]) else parts[0]


def _heaviest(pair: tuple[float, int]) -> float:
    return -pair[0]
