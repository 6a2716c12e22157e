"""The one shape every source produces: a validated, normalized paper record.

Sources only map their format onto :func:`make_record`; cleaning (HTML to text, whitespace) and
every check (types, sizes, URLs) happen here, once, so that a bad item from any source is refused
the same way and with a reason an operator can act on.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime

from newsletter.clock import as_utc
from newsletter.errors import BadItem
from newsletter.sources.checks import count_field, names_field, text_field, url_field
from newsletter.sources.latex import tex_to_unicode
from newsletter.sources.plaintext import collapse_spaces, plain_text

MAX_TITLE = 1_000
MAX_ABSTRACT = 20_000
MAX_ID = 200

_NEW_ID = re.compile(r"(\d{4}\.\d{4,5})(v\d+)?")
_OLD_ID = re.compile(r"([a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(v\d+)?")
_ID_IN_TEXT = re.compile(r"(?:arxiv\.org/(?:abs|pdf)/|arXiv:|^)([\w.\-]+/\d{7}|\d{4}\.\d{4,5})")
_NON_WORD = re.compile(r"[\W_]+")


@dataclass(frozen=True, slots=True)
class Skipped:
    """A malformed item: where it was in its listing and why it was refused."""

    source: str
    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source} {self.where}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Revision:
    """A new version of a paper announced earlier (arXiv's ``replace``/``replace-cross``).

    Not a new paper: it revises the title, abstract and authors of a paper we already store and
    is never inserted, so a year-old paper does not come back as today's news.
    """

    record: ListedPaper


@dataclass(frozen=True, slots=True)
class ListedPaper:
    """A paper as one source lists it; ``source_id`` is the versionless arXiv id when known."""

    source: str
    source_id: str
    title: str
    abstract: str = ""
    arxiv_id: str | None = None
    authors: tuple[str, ...] = ()
    url: str | None = None
    pdf_url: str | None = None
    github_url: str | None = None
    github_stars: int | None = None
    project_url: str | None = None
    thumbnail_url: str | None = None
    categories: tuple[str, ...] = ()
    ai_summary: str | None = None
    ai_keywords: tuple[str, ...] = ()
    published_at: datetime | None = None
    featured_on: date | None = None
    announced_on: date | None = None
    upvotes: int = 0
    comments: int = 0

    def __post_init__(self) -> None:
        if not self.title or len(self.title) > MAX_TITLE:
            raise BadItem(f"title must be 1 to {MAX_TITLE} characters")
        if len(self.abstract) > MAX_ABSTRACT:
            raise BadItem(f"abstract is longer than {MAX_ABSTRACT} characters")
        if not self.source_id or len(self.source_id) > MAX_ID:
            raise BadItem(f"id must be 1 to {MAX_ID} characters")
        if self.upvotes < 0 or self.comments < 0 or (self.github_stars or 0) < 0:
            raise BadItem("counts cannot be negative")


def normalize_arxiv_id(value: str) -> str | None:
    """``2401.12345v2`` -> ``2401.12345``; also finds the id in abs/pdf URLs and OAI ids."""
    text = value.strip().removeprefix("oai:arXiv.org:")
    for pattern in (_NEW_ID, _OLD_ID):
        match = pattern.fullmatch(text)
        if match:
            return match.group(1)
    found = _ID_IN_TEXT.search(text)
    if found and found.group(1) != text:
        return normalize_arxiv_id(found.group(1))
    return None


def _person(name: str) -> str:
    return tex_to_unicode(plain_text(name))


def title_key(title: str) -> str:
    """A stable id for listings without one: case, spacing and punctuation do not matter."""
    normalized = " ".join(_NON_WORD.sub(" ", title.casefold()).split())
    return "title:" + hashlib.sha1(normalized.encode("utf-8")).hexdigest()[:16]


def make_record(
    source: str,
    *,
    title: object,
    own_id: str | None = None,
    arxiv_id: str | None = None,
    abstract: object = "",
    authors: object = (),
    url: object = None,
    pdf_url: object = None,
    github_url: object = None,
    github_stars: object = None,
    project_url: object = None,
    thumbnail_url: object = None,
    categories: object = (),
    ai_summary: object = None,
    ai_keywords: object = (),
    published_at: datetime | None = None,
    featured_on: date | None = None,
    announced_on: date | None = None,
    upvotes: object = 0,
    comments: object = 0,
) -> ListedPaper:
    """Clean and check raw values; raises :class:`BadItem` with the first problem found."""
    clean_title = tex_to_unicode(text_field(title, "title", MAX_TITLE))
    if not clean_title:
        raise BadItem("missing title")
    paper_id = normalize_arxiv_id(arxiv_id) if arxiv_id else None
    if paper_id is not None:
        key = paper_id
    elif own_id:
        key = f"{source}:{collapse_spaces(own_id)}"
    else:
        key = title_key(clean_title)
    stars = count_field(github_stars, "github_stars") if github_stars is not None else None
    summary = text_field(ai_summary, "ai_summary", MAX_ABSTRACT) or None
    return ListedPaper(
        source=source,
        source_id=key,
        title=clean_title,
        abstract=text_field(abstract, "abstract", MAX_ABSTRACT),
        arxiv_id=paper_id,
        authors=names_field(authors, "authors", _person),
        url=url_field(url, "url") or (f"https://arxiv.org/abs/{paper_id}" if paper_id else None),
        pdf_url=url_field(pdf_url, "pdf_url")
        or (f"https://arxiv.org/pdf/{paper_id}" if paper_id else None),
        github_url=url_field(github_url, "github_url"),
        github_stars=stars,
        project_url=url_field(project_url, "project_url"),
        thumbnail_url=url_field(thumbnail_url, "thumbnail_url"),
        categories=names_field(categories, "categories"),
        ai_summary=summary,
        ai_keywords=names_field(ai_keywords, "ai_keywords"),
        published_at=as_utc(published_at) if published_at else None,
        featured_on=featured_on,
        announced_on=announced_on,
        upvotes=count_field(upvotes, "upvotes"),
        comments=count_field(comments, "comments"),
    )
