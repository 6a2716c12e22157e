"""Ordering relevant papers: relevance first, trending as a tie-breaker with weight."""

from __future__ import annotations

from newsletter.matching.relevance import Judgement

# Share of the final score that trending may move; relevance keeps the rest.
TRENDING_WEIGHT = 0.2


def blend(relevance: float, trending: float) -> float:
    """Multiplicative so that a paper with no relevance cannot be lifted by popularity."""
    return relevance * (1.0 - TRENDING_WEIGHT + TRENDING_WEIGHT * trending)


def explain(label: str, judgement: Judgement, max_words: int = 4) -> str:
    """One short line a subscriber reads under the paper's title."""
    parts: list[str] = []
    if judgement.matched:
        parts.append(f'Matches your topic "{label}": {", ".join(judgement.matched[:max_words])}')
    if judgement.followed:
        lead = "by" if parts else f'Your topic "{label}": by'
        parts.append(f"{lead} {judgement.followed}, whom you follow")
    if not parts:
        return f'Matches your topic "{label}"'
    return "; ".join(parts)
