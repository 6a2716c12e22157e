"""arXiv's announcement RSS: ``https://rss.arxiv.org/rss/cs.CL+cs.LG`` (categories joined by +).

Each ``item`` has ``title``, ``link``, ``description`` (``arXiv:2401.06153v1 Announce Type: new
\\nAbstract: ...``), ``guid`` (``oai:arXiv.org:2401.06153v1``), ``category`` elements, ``pubDate``
(the announcement day), ``arxiv:announce_type`` and ``dc:creator`` (every author, one string,
affiliations in parentheses). ``new`` and ``cross`` announcements are papers new to the reader;
``replace`` and ``replace-cross`` are new versions of older papers: they revise a paper we already
have and are counted, never stored as new. ``absonly`` and unknown types are ignored.

An empty channel is a quiet day (weekends, holidays). A request arXiv cannot serve (an unknown
archive or subject class) is answered with an error feed, HTTP 400 today, whose channel title is
"Feed error for query: ..." and whose description is the reason ("Bad archive 'xx'. Valid archive
names are: ..."): that is a :class:`SourceError` quoting the reason, whatever the status.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence

from newsletter.errors import BadItem, SourceError
from newsletter.sources.arxiv_xml import arxiv_categories, parse_document, split_creators, text_of
from newsletter.sources.dates import parse_rfc2822
from newsletter.sources.http_client import HttpFetcher, HttpStatusError
from newsletter.sources.interface import Item
from newsletter.sources.records import (
    ListedPaper,
    Revision,
    Skipped,
    make_record,
    normalize_arxiv_id,
)

NEW_TYPES = frozenset({"new", "cross"})
REPLACE_TYPES = frozenset({"replace", "replace-cross"})
_HEADER = re.compile(r"^\s*arXiv:(\S+)\s+Announce Type:\s*([\w\-]+)\s*", re.IGNORECASE)
_ABSTRACT = re.compile(r"^\s*Abstract:\s*", re.IGNORECASE)
_ERROR_TITLE = "feed error"


def announce_type(item: ET.Element) -> str | None:
    kind = text_of(item, "arxiv:announce_type")
    if kind is None:
        header = _HEADER.match(text_of(item, "description") or "")
        kind = header.group(2) if header else None
    return kind.strip().lower() if kind else None


def parse_item(item: ET.Element) -> ListedPaper:
    description = text_of(item, "description") or ""
    header = _HEADER.match(description)
    abstract = _ABSTRACT.sub("", description[header.end() :] if header else description, count=1)
    candidates = [text_of(item, "guid"), header.group(1) if header else None, text_of(item, "link")]
    arxiv_id = next((c for c in candidates if c and normalize_arxiv_id(c)), None)
    if arxiv_id is None:
        raise BadItem("no arXiv id in guid, description or link")
    announced = parse_rfc2822(text_of(item, "pubDate"), "pubDate")
    return make_record(
        "arxiv",
        arxiv_id=arxiv_id,
        title=text_of(item, "title"),
        abstract=abstract,
        authors=split_creators(text_of(item, "dc:creator")),
        categories=arxiv_categories([c.text for c in item.findall("category")]),
        published_at=announced,
        announced_on=announced.date() if announced else None,
    )


def error_reason(root: ET.Element) -> str | None:
    """The reason of arXiv's error feed, or None for a feed of announcements."""
    channel = root.find("channel")
    if channel is None:
        return None
    title = (text_of(channel, "title") or "").strip().lower()
    if not title.startswith(_ERROR_TITLE) or channel.find("item") is not None:
        return None
    return " ".join((text_of(channel, "description") or "unknown error").split())


class ArxivRssSource:
    """Today's announcements for ``categories``, in one request."""

    name = "arxiv"

    def __init__(
        self,
        fetcher: HttpFetcher,
        rss_url: str,
        categories: Sequence[str],
        announce_types: frozenset[str] = NEW_TYPES,
    ) -> None:
        self.fetcher = fetcher
        self.url = f"{rss_url.rstrip('/')}/{'+'.join(categories)}"
        self.announce_types = announce_types

    def _document(self) -> ET.Element | None:
        try:
            response = self.fetcher.get(self.url)
        except HttpStatusError as exc:
            reason = _reason_in(exc.body, self.url)
            if reason is None:
                raise
            raise SourceError(f"{self.url}: arXiv refused the feed: {reason}") from None
        if response is None:
            return None
        root = parse_document(response.content, self.url)
        reason = error_reason(root)
        if reason is not None:
            raise SourceError(f"{self.url}: arXiv refused the feed: {reason}")
        return root

    def items(self) -> Iterator[Item]:
        root = self._document()
        if root is None:
            return
        channel = root.find("channel")
        if channel is None:
            raise SourceError(f"{self.url}: not an RSS document")
        for index, item in enumerate(channel.findall("item")):
            kind = announce_type(item)
            revision = kind in REPLACE_TYPES
            if kind is not None and not revision and kind not in self.announce_types:
                continue
            try:
                record = parse_item(item)
            except BadItem as exc:
                guid = text_of(item, "guid")
                yield Skipped(self.name, f"item {index}" + (f" ({guid})" if guid else ""), str(exc))
                continue
            yield Revision(record) if revision else record


def _reason_in(body: bytes, url: str) -> str | None:
    if not body.lstrip().startswith(b"<"):
        return None
    try:
        return error_reason(parse_document(body, url))
    except SourceError:
        return None
