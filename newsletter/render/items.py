"""What one digest item shows, computed from a paper: short author list, excerpt, safe links.

Feed data is untrusted twice over: the templates escape it, and links are kept only when they
are plain http(s) URLs, because escaping cannot make ``javascript:`` harmless in an ``href``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from newsletter.store.models import Paper

_UNSAFE = re.compile(r"[\s\x00-\x1f\x7f]")
AUTHORS_SHOWN = 3
EXCERPT_CHARS = 300


@dataclass(frozen=True)
class DigestEntry:
    title: str
    url: str | None
    authors: str
    excerpt: str
    upvotes: int
    github_url: str | None
    why: str
    # The reader's "More like this" / "Not for me" links (None: not shown, e.g. samples).
    more_url: str | None = None
    less_url: str | None = None


def safe_url(url: str | None) -> str | None:
    """The URL if it is an absolute http(s) link without whitespace, else None."""
    if not url:
        return None
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    if _UNSAFE.search(url):
        return None
    return url


def shorten_authors(authors: Sequence[str], shown: int = AUTHORS_SHOWN) -> str:
    """"A, B, C et al." beyond ``shown`` names; a long list of names is noise in a digest."""
    names = [" ".join(a.split()) for a in authors if a and a.strip()]
    if len(names) <= shown:
        return ", ".join(names)
    return ", ".join(names[:shown]) + " et al."


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """About ``limit`` characters, cut on a word boundary, with an ellipsis when cut."""
    clean = " ".join(text.split())
    if len(clean) <= limit:
        return clean
    cut = clean[: limit + 1].rsplit(" ", 1)[0] if " " in clean[:limit] else clean[:limit]
    return cut.rstrip(" ,;:.-–—") + "…"


def paper_url(paper: Paper) -> str | None:
    """The paper's own page; arXiv's abstract page when only the id is known."""
    url = safe_url(paper.url)
    if url is None and paper.arxiv_id:
        url = safe_url(f"https://arxiv.org/abs/{paper.arxiv_id}")
    return url or safe_url(paper.pdf_url)


def digest_entry(paper: Paper, why: str) -> DigestEntry:
    return DigestEntry(
        title=" ".join(paper.title.split()),
        url=paper_url(paper),
        authors=shorten_authors(paper.authors or []),
        excerpt=excerpt(paper.abstract or paper.ai_summary or ""),
        upvotes=paper.upvotes or 0,
        github_url=safe_url(paper.github_url),
        why=" ".join(why.split()),
    )
