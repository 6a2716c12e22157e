"""The term statistics of one matching run: new papers plus an optional background of older ones.

Each paper becomes a TF-IDF vector in which where a word stands matters: the title counts double,
the opening sentence (what the paper is about) half as much again, and the closing sentence (where
"code is available at ..." lives) only half. Inverse document frequencies come from the whole
pool, so a word common in this field ("model", "pre-training") weighs little.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from itertools import pairwise
from typing import NamedTuple, Protocol

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer

from newsletter.matching.acronyms import AcronymTable
from newsletter.matching.papers import PaperLike
from newsletter.matching.text import StandIn, Tokenizer, fold, sentences, with_bigrams

# Weight of each part of a paper: title, first sentence, middle sentences, last sentence.
FIELD_WEIGHTS = (2.0, 1.5, 1.0, 0.5)


class Written(Protocol):
    """Anything with a title and an abstract: a paper, or an example paper a reader judged."""

    @property
    def title(self) -> str: ...

    @property
    def abstract(self) -> str: ...


def unit_rows(matrix: sp.spmatrix) -> sp.csr_matrix:
    """Rows scaled to unit length (empty rows stay empty), on the raw arrays: sklearn's
    ``normalize`` costs a millisecond of checks per call, and matching calls it per topic."""
    out = sp.csr_matrix(matrix, dtype=np.float64, copy=True)
    rows = np.repeat(np.arange(out.shape[0]), np.diff(out.indptr))
    norms = np.sqrt(np.bincount(rows, weights=out.data * out.data, minlength=out.shape[0]))
    if out.data.size:
        out.data /= norms[rows]
    out.sort_indices()
    return out


def _idf(df: np.ndarray | float, n_docs: int) -> np.ndarray:
    """Smoothed inverse document frequency (sklearn's ``smooth_idf``) of terms in ``df`` of
    ``n_docs`` papers: one formula for the weights and for the shares that set thresholds."""
    return np.asarray(np.log((1.0 + n_docs) / (1.0 + np.asarray(df))) + 1.0)


def _identity(terms: list[str]) -> list[str]:
    return terms


class RowFacts(NamedTuple):
    """What explaining a paper's pick needs of it, worked out once per paper."""

    present: frozenset[int]  # its term columns
    titled: frozenset[int]  # its title's term columns
    folded: str  # its text, folded
    weights: dict[int, float]  # term column -> TF-IDF weight


class Corpus:
    """Vectors for the pool of papers; the first ``n_new`` rows are the papers being matched."""

    def __init__(self, papers: Sequence[PaperLike], background: Sequence[PaperLike] = ()) -> None:
        self.n_new = len(papers)
        pool = [*papers, *background]
        texts = [f"{p.title}\n{p.abstract or ''}" for p in pool]
        self.texts = texts
        self.tokenizer = Tokenizer(Tokenizer.closed_words(texts))
        # Typed phrases already turned into terms (filled by matching.query).
        self.phrase_cache: dict[str, tuple[list[str], list[str]]] = {}
        self.typed_cache: dict[str, tuple[list[str], list[str], tuple[int, ...] | None]] = {}
        self._facts: dict[int, RowFacts] = {}
        self.acronyms = AcronymTable(texts)
        fields: list[list[list[str]]] = []
        # How each new paper writes its terms, to show people words rather than stems.
        self.wordings: list[dict[str, str]] = []
        for row, (paper, text) in enumerate(zip(pool, texts, strict=True)):
            chunks = self._pairs(paper, text)
            fields.append([with_bigrams([term for term, _ in pairs]) for pairs in chunks])
            if row < self.n_new:
                self.wordings.append(self._wording(chunks))
        self.vectorizer = CountVectorizer(analyzer=_identity, lowercase=False)
        self.vectorizer.fit([[t for part in parts for t in part] for parts in fields] or [[]])
        self.names = [str(name) for name in self.vectorizer.get_feature_names_out()]
        counts = [self._count([parts[k] for parts in fields]) for k in range(4)]
        # Which terms each new paper's title holds: a phrase there is the paper's subject.
        self.titles = sp.csc_matrix(counts[0][: self.n_new] > 0, dtype=np.float64)
        self.title_rows = sp.csr_matrix(self.titles)
        n_docs = len(pool)
        seen = (sum(counts[1:], counts[0]) > 0).astype(np.float64)
        df = np.asarray(seen.sum(axis=0)).ravel()
        self.idf = _idf(df, n_docs)
        # Terms in more than one paper in ten say little about what a paper is about.
        self.distinctive_idf = float(_idf(0.1 * n_docs, n_docs))
        # Terms in half the papers or more ("model", "use") say nothing about any one of them.
        self.telling_idf = float(_idf(0.5 * n_docs, n_docs))
        weighted = FIELD_WEIGHTS[0] * counts[0]
        for weight, part in zip(FIELD_WEIGHTS[1:], counts[1:], strict=True):
            weighted = weighted + weight * part
        self.matrix = self._tfidf(sp.csr_matrix(weighted))

    def _pairs(self, paper: Written, text: str) -> list[list[tuple[str, str]]]:
        """(term, word) pairs of title, first, middle and last sentences."""
        expand = self.acronyms.expander(text).get
        parts = sentences(paper.abstract or "")
        lead = parts[:1]
        middle = parts[1:-1] if len(parts) > 2 else []
        last = parts[-1:] if len(parts) > 1 else []
        chunks = ([paper.title], lead, middle, last)
        return [self.tokenizer.pairs(" ".join(chunk), expand) for chunk in chunks]

    @staticmethod
    def _wording(chunks: list[list[tuple[str, str]]]) -> dict[str, str]:
        """Each term as the paper first writes it, and only where the paper never writes it
        as a word of its own, as the word that stands for it: the hyphenated word it is part of
        ("clinic" of "Clinical-Longformer": a reason should read "clinical", not the paper's
        name) or the acronym it was expanded from ("artificial" of "01.AI")."""
        found: dict[str, str] = {}
        standing_in: dict[str, str] = {}  # used where the paper never writes the term itself
        for pairs in chunks:
            own = [not isinstance(word, StandIn) for _, word in pairs]
            for (term, word), written in zip(pairs, own, strict=True):
                (found if written else standing_in).setdefault(term, word)
            for ((a, u), (b, v)), (x, y) in zip(pairwise(pairs), pairwise(own), strict=True):
                whole = u == v and "-" in u  # two parts of one hyphenated word are that word
                pair = u if u == v else f"{u} {v}"
                (found if whole or (x and y) else standing_in).setdefault(f"{a} {b}", pair)
        for term, word in standing_in.items():
            found.setdefault(term, word)
        return found

    def row_terms(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """Columns and weights of paper ``row`` (cheaper than slicing the sparse matrix)."""
        start, end = self.matrix.indptr[row], self.matrix.indptr[row + 1]
        return self.matrix.indices[start:end], self.matrix.data[start:end]

    def row_facts(self, row: int) -> RowFacts:
        """Paper ``row``'s term columns, its title's term columns, its folded text and each
        term's weight (a dict: a topic's few query terms are looked up one by one).

        Worked out once per paper, not once per topic that selects it: a build explains a
        paper to a million readers' topics.
        """
        facts = self._facts.get(row)
        if facts is None:
            titles = self.title_rows
            start, end = titles.indptr[row], titles.indptr[row + 1]
            columns, values = self.row_terms(row)
            facts = RowFacts(
                frozenset(columns.tolist()),
                frozenset(titles.indices[start:end].tolist()),
                fold(self.texts[row]),
                dict(zip(columns.tolist(), values.tolist(), strict=True)),
            )
            self._facts[row] = facts
        return facts

    @cached_property
    def distinctive(self) -> list[bool]:
        """Per term column: rare enough (``distinctive_idf``) to say what a paper is about."""
        return [bool(x) for x in self.idf >= self.distinctive_idf]

    @cached_property
    def telling(self) -> list[bool]:
        """Per term column: in fewer than half the papers (``telling_idf``), so it can still
        say why a paper fits when no distinctive word does ("retrieval" for a RAG topic)."""
        return [bool(x) for x in self.idf >= self.telling_idf]

    def _count(self, docs: list[list[str]]) -> sp.csr_matrix:
        return sp.csr_matrix(self.vectorizer.transform(docs), dtype=np.float64)

    def _tfidf(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        """Sublinear term frequency: the tenth "model" in an abstract adds little."""
        counts = counts.copy()
        counts.data = np.log1p(counts.data)
        return unit_rows(sp.csr_matrix(counts.multiply(self.idf)))

    def vector(self, terms: list[str]) -> sp.csr_matrix:
        """A query vector in the same space (terms the pool never uses are dropped)."""
        return self._tfidf(self._count([terms]))

    def vectors(self, docs: Sequence[list[str]]) -> sp.csr_matrix:
        """Many term lists at once, one row each (an empty list gives an empty row)."""
        if not docs:
            return sp.csr_matrix((0, len(self.names)))
        return self._tfidf(self._count(list(docs)))

    def embed(self, papers: Sequence[Written]) -> sp.csr_matrix:
        """Papers outside the pool (a reader's examples) as vectors in the pool's space."""
        if not papers:
            return sp.csr_matrix((0, len(self.names)))
        parts = [self._pairs(p, f"{p.title}\n{p.abstract or ''}") for p in papers]
        fields = [[with_bigrams([t for t, _ in pairs]) for pairs in chunks] for chunks in parts]
        counts = [self._count([f[k] for f in fields]) for k in range(4)]
        weighted = FIELD_WEIGHTS[0] * counts[0]
        for weight, part in zip(FIELD_WEIGHTS[1:], counts[1:], strict=True):
            weighted = weighted + weight * part
        return self._tfidf(sp.csr_matrix(weighted))

    def term_index(self, term: str) -> int | None:
        index = self.vectorizer.vocabulary_.get(term)
        return None if index is None else int(index)
