"""Matching: which new papers each subscriber gets, in what order, and why.

Relevance is judged per distinct topic on a scale shared by all topics, then blended with
trending for ordering; the public names below are what digest building codes against.

The names are loaded on first use (PEP 562): scikit-learn and SciPy take over a second and
about 100 MB to import, and code that needs only a light module of this package (the fading of
verdicts, the curated topics) must not pay for them; an edition build's main process, which
leaves matching to its worker processes, is one.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from newsletter.matching.papers import PaperLike, PaperRecord, title_id
    from newsletter.matching.relevance import THRESHOLD
    from newsletter.matching.selection import (
        DigestItem,
        Interest,
        Matcher,
        ScoredPaper,
        iter_digests,
        select_digests,
    )

_HOMES = {
    "PaperLike": "papers",
    "PaperRecord": "papers",
    "title_id": "papers",
    "THRESHOLD": "relevance",
    "DigestItem": "selection",
    "Interest": "selection",
    "Matcher": "selection",
    "ScoredPaper": "selection",
    "iter_digests": "selection",
    "select_digests": "selection",
}

__all__ = [
    "THRESHOLD",
    "DigestItem",
    "Interest",
    "Matcher",
    "PaperLike",
    "PaperRecord",
    "ScoredPaper",
    "iter_digests",
    "select_digests",
    "title_id",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{home}"), name)
