"""arXiv's query API (Atom): ``search_query=cat:cs.CL``, newest submissions first.

Entries carry ``id`` (``http://arxiv.org/abs/2401.12345v2``), ``title``, ``summary``,
``author/name``, ``published`` (first version), ``category/@term`` and
``arxiv:primary_category``. Errors come back as a feed with a single entry whose id points at
``/api/errors``. For a given day the query adds ``submittedDate:[D0000 TO D2359]`` and pages
through every result. The caller's fetcher spaces requests 3 seconds apart."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from datetime import date

from newsletter.errors import BadItem, SourceError
from newsletter.sources.arxiv_xml import NS, arxiv_categories, parse_document, text_of
from newsletter.sources.dates import parse_iso
from newsletter.sources.http_client import HttpFetcher
from newsletter.sources.interface import Item
from newsletter.sources.records import PaperRecord, Skipped, make_record, normalize_arxiv_id

PAGE_SIZE = 200
MAX_PAGES = 25


def query_for(category: str, day: date | None) -> str:
    if day is None:
        return f"cat:{category}"
    stamp = day.strftime("%Y%m%d")
    return f"cat:{category} AND submittedDate:[{stamp}0000 TO {stamp}2359]"


def parse_entry(entry: ET.Element) -> PaperRecord:
    """Links are rebuilt from the versionless id, so every source points at the same pages."""
    entry_id = text_of(entry, "atom:id") or ""
    if normalize_arxiv_id(entry_id) is None:
        raise BadItem(f"id {entry_id[:80]!r} is not an arXiv abstract URL")
    primary = entry.find("arxiv:primary_category", NS)
    terms = [primary.get("term") if primary is not None else None]
    terms += [c.get("term") for c in entry.findall("atom:category", NS)]
    return make_record(
        "arxiv",
        arxiv_id=entry_id,
        title=text_of(entry, "atom:title"),
        abstract=text_of(entry, "atom:summary"),
        authors=[text_of(a, "atom:name") or "" for a in entry.findall("atom:author", NS)],
        published_at=parse_iso(text_of(entry, "atom:published"), "published"),
        categories=arxiv_categories(terms),
    )


def parse_feed(content: bytes, url: str) -> tuple[list[ET.Element], int]:
    """The page's entries and the total number of results of the query."""
    feed = parse_document(content, url)
    entries = feed.findall("atom:entry", NS)
    if len(entries) == 1 and "/api/errors" in (text_of(entries[0], "atom:id") or ""):
        raise SourceError(f"{url}: {text_of(entries[0], 'atom:summary') or 'API error'}")
    total = text_of(feed, "opensearch:totalResults")
    return entries, int(total) if total and total.strip().isdigit() else len(entries)


class ArxivApiSource:
    """Newest submissions per category (all of ``day``'s, when given), paged 200 at a time."""

    name = "arxiv"

    def __init__(
        self,
        fetcher: HttpFetcher,
        api_url: str,
        categories: Sequence[str],
        day: date | None,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.page_size = page_size
        self.fetcher = fetcher
        self.api_url = api_url
        self.categories = list(categories)
        self.day = day

    def items(self) -> Iterator[Item]:
        for category in self.categories:
            yield from self._category(category)

    def _category(self, category: str) -> Iterator[Item]:
        pages = MAX_PAGES if self.day is not None else 1
        for page in range(pages):
            params: dict[str, str | int] = {
                "search_query": query_for(category, self.day),
                "sortBy": "submittedDate",
                "sortOrder": "descending",
                "start": page * self.page_size,
                "max_results": self.page_size,
            }
            response = self.fetcher.get(self.api_url, params)
            if response is None:
                return
            entries, total = parse_feed(response.content, self.api_url)
            for index, entry in enumerate(entries):
                try:
                    yield parse_entry(entry)
                except BadItem as exc:
                    where = f"{category} entry {page * self.page_size + index}"
                    yield Skipped(self.name, where, str(exc))
            if not entries or (page + 1) * self.page_size >= total:
                return
