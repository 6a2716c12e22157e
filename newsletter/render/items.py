"""What one digest item shows, computed from a paper.

A reader scans a digest the way they scan Hugging Face's daily list: title first, then who and
when, then one line on what the paper does and one on why it is here. Everything is decided
here, once, so the HTML part, the text part and the web pages agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from newsletter.announced import announced_on
from newsletter.render.links import paper_links
from newsletter.render.summary import one_line_summary
from newsletter.store.models import Paper

AUTHORS_SHOWN = 3


@dataclass(frozen=True)
class Author:
    name: str
    followed: bool = False


@dataclass(frozen=True)
class DigestEntry:
    """One paper as a digest shows it.

    ``more_url`` and ``less_url`` ("More like this" / "Not for me") are filled per recipient by
    the feedback links; the templates show them only when present.
    """

    title: str
    url: str
    summary: str
    why: str
    authors: tuple[Author, ...] = ()
    et_al: bool = False
    day: date | None = None
    upvotes: int = 0
    comments: int = 0
    pdf_url: str | None = None
    code_url: str | None = None
    # The reader's "More like this" / "Not for me" links (None: not shown, e.g. samples).
    more_url: str | None = None
    less_url: str | None = None


def shown_authors(
    authors: Sequence[str], followed: Iterable[str] = (), shown: int = AUTHORS_SHOWN
) -> tuple[tuple[Author, ...], bool]:
    """The first ``shown`` names plus any followed author further down; True when some are left
    out ("et al."). A followed author is the reason a paper is here, so never hidden."""
    names = [" ".join(a.split()) for a in authors if a and a.strip()]
    wanted = tuple(followed)
    marks = [_is_followed(name, wanted) for name in names] if wanted else [False] * len(names)
    keep = [n < shown or marks[n] for n in range(len(names))]
    picked = tuple(Author(name, marks[n]) for n, name in enumerate(names) if keep[n])
    return picked, not all(keep)


def _is_followed(name: str, followed: tuple[str, ...]) -> bool:
    """The matcher's own rule for "same person", so a mark never disagrees with a why-line.

    Imported here, not at module level: matching loads scikit-learn, which commands that only
    send mail should not pay for unless someone follows an author.
    """
    from newsletter.matching.authors import followed_author

    return followed_author([name], followed) is not None


def digest_entry(paper: Paper, why: str, followed: Iterable[str] = ()) -> DigestEntry:
    links = paper_links(paper)
    authors, et_al = shown_authors(paper.authors or [], followed)
    return DigestEntry(
        title=" ".join(paper.title.split()),
        url=links.page,
        summary=one_line_summary(paper.ai_summary, paper.abstract or ""),
        why=" ".join(why.split()),
        authors=authors,
        et_al=et_al,
        day=announced_on(paper.featured_on, paper.published_at),
        upvotes=paper.upvotes or 0,
        comments=paper.comments or 0,
        pdf_url=links.pdf,
        code_url=links.code,
    )
