"""Where each part of a digest item points: the paper's page, its PDF, its code.

Feed data is untrusted twice over: the templates escape it, and links are kept only when they
are plain http(s) URLs, because escaping cannot make ``javascript:`` harmless in an ``href``.
A paper always gets a link: with no id and no page (the bundled sample, some files) it is a
title search, which is stable and shows the abstract in its results.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote, urlencode, urlsplit

_UNSAFE = re.compile(r"[\s\x00-\x1f\x7f]")
HF_PAPERS = "https://huggingface.co/papers/"
ARXIV = "https://arxiv.org"


class LinkedPaper(Protocol):
    """What the links are made from; the store's ``Paper`` has these attributes."""

    @property
    def title(self) -> str: ...

    @property
    def arxiv_id(self) -> str | None: ...

    @property
    def url(self) -> str | None: ...

    @property
    def pdf_url(self) -> str | None: ...

    @property
    def github_url(self) -> str | None: ...

    @property
    def sources(self) -> Sequence[str]: ...


@dataclass(frozen=True)
class PaperLinks:
    page: str
    pdf: str | None
    code: str | None


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


def title_search_url(title: str) -> str:
    """arXiv's title search: its results list the abstract, so the reader is one click away."""
    query = urlencode({"query": " ".join(title.split()), "searchtype": "title"})
    return f"{ARXIV}/search/?{query}"


def page_url(paper: LinkedPaper) -> str:
    """Hugging Face's page for papers listed there (abstract, upvotes, discussion, code);
    otherwise the source's own page, arXiv's abstract page, or a title search."""
    arxiv_id = (paper.arxiv_id or "").strip()
    if arxiv_id and "hf" in (paper.sources or ()):
        return HF_PAPERS + quote(arxiv_id)
    own = safe_url(paper.url)
    if own:
        return own
    if arxiv_id:
        return f"{ARXIV}/abs/{quote(arxiv_id)}"
    return title_search_url(paper.title)


def paper_links(paper: LinkedPaper) -> PaperLinks:
    arxiv_id = (paper.arxiv_id or "").strip()
    pdf = safe_url(paper.pdf_url) or (f"{ARXIV}/pdf/{quote(arxiv_id)}" if arxiv_id else None)
    return PaperLinks(page=page_url(paper), pdf=pdf, code=safe_url(paper.github_url))
