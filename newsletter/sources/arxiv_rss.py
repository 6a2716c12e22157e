"""arXiv's announcement RSS: ``https://rss.arxiv.org/rss/cs.CL+cs.LG`` (categories joined by +).

Each ``item`` has ``title``, ``link``, ``description`` (``arXiv:2401.06153v1 Announce Type: new
\\nAbstract: ...``), ``guid`` (``oai:arXiv.org:2401.06153v1``), ``category`` elements, ``pubDate``
(the announcement day), ``arxiv:announce_type`` and ``dc:creator`` (all authors, one string).
Only ``new`` and ``cross`` announcements are papers that are new to the reader; ``replace`` and
``replace-cross`` are revisions of older papers and are not ingested (an item that does not
say which it is, is). The feed is empty on weekends and holidays, which is not an error.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence

from newsletter.errors import BadItem, SourceError
from newsletter.sources.arxiv_xml import arxiv_categories, parse_document, split_creators, text_of
from newsletter.sources.dates import parse_rfc2822
from newsletter.sources.http_client import HttpFetcher
from newsletter.sources.interface import Item
from newsletter.sources.records import PaperRecord, Skipped, make_record, normalize_arxiv_id

NEW_TYPES = frozenset({"new", "cross"})
_HEADER = re.compile(r"^\s*arXiv:(\S+)\s+Announce Type:\s*([\w\-]+)\s*", re.IGNORECASE)
_ABSTRACT = re.compile(r"^\s*Abstract:\s*", re.IGNORECASE)


def announce_type(item: ET.Element) -> str | None:
    kind = text_of(item, "arxiv:announce_type")
    if kind is None:
        header = _HEADER.match(text_of(item, "description") or "")
        kind = header.group(2) if header else None
    return kind.strip().lower() if kind else None


def parse_item(item: ET.Element) -> PaperRecord:
    description = text_of(item, "description") or ""
    header = _HEADER.match(description)
    abstract = _ABSTRACT.sub("", description[header.end() :] if header else description, count=1)
    candidates = [text_of(item, "guid"), header.group(1) if header else None, text_of(item, "link")]
    arxiv_id = next((c for c in candidates if c and normalize_arxiv_id(c)), None)
    if arxiv_id is None:
        raise BadItem("no arXiv id in guid, description or link")
    return make_record(
        "arxiv",
        arxiv_id=arxiv_id,
        title=text_of(item, "title"),
        abstract=abstract,
        authors=split_creators(text_of(item, "dc:creator")),
        categories=arxiv_categories([c.text for c in item.findall("category")]),
        published_at=parse_rfc2822(text_of(item, "pubDate"), "pubDate"),
    )


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

    def items(self) -> Iterator[Item]:
        response = self.fetcher.get(self.url)
        if response is None:
            return
        channel = parse_document(response.content, self.url).find("channel")
        if channel is None:
            raise SourceError(f"{self.url}: not an RSS document")
        for index, item in enumerate(channel.findall("item")):
            kind = announce_type(item)
            if kind is not None and kind not in self.announce_types:
                continue
            try:
                yield parse_item(item)
            except BadItem as exc:
                guid = text_of(item, "guid")
                yield Skipped(self.name, f"item {index}" + (f" ({guid})" if guid else ""), str(exc))
