"""Matching: which new papers each subscriber gets, in what order, and why.

Relevance is judged per distinct topic on a scale shared by all topics, then blended with
trending for ordering; the public names below are what digest building codes against.
"""

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
