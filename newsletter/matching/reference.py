"""A bundled sample of typical papers that steadies the statistics of small runs.

Relevance is judged against the pool's score distribution and word frequencies, which a batch of
thirty papers estimates poorly. When the new papers and the background together are fewer than
``MIN_POOL``, these sample papers (titles and abstracts of Hugging Face daily papers) join the pool
for statistics only: they are never selected.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources

from newsletter.matching.papers import PaperLike, PaperRecord, normalized_title, title_id

MIN_POOL = 300


@lru_cache(maxsize=1)
def reference_papers() -> tuple[PaperRecord, ...]:
    source = resources.files("newsletter.sources").joinpath("sample", "papers.json")
    rows = json.loads(source.read_text(encoding="utf-8"))
    return tuple(PaperRecord(title_id(r["title"]), r["title"], r["abstract"]) for r in rows)


def padded_background(
    papers: Sequence[PaperLike], background: Sequence[PaperLike]
) -> list[PaperLike]:
    """``background``, plus as many sample papers as a too-small pool needs (none repeated)."""
    missing = MIN_POOL - len(papers) - len(background)
    if missing <= 0:
        return list(background)
    known = {normalized_title(p.title) for p in (*papers, *background)}
    extra = [p for p in reference_papers() if normalized_title(p.title) not in known]
    return [*background, *extra[:missing]]
