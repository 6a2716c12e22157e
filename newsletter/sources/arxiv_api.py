"""arXiv's query API (Atom): ``search_query=cat:cs.CL``, newest submissions first.

Entries carry ``id`` (``http://arxiv.org/abs/2401.12345v2``), ``title``, ``summary``,
``author/name``, ``published`` (first version), ``category/@term`` and
``arxiv:primary_category``. Errors come back as a feed with a single entry whose id points at
``/api/errors``, titled "Error" and written by "arXiv api core" (HTTP 200, or 400 on the newer
service): a :class:`SourceError` quoting its summary. For a given day the query adds
``submittedDate:[D0000 TO D2359]`` and pages until the real end: ``opensearch:totalResults``
reached, a short or empty page, or a page of entries already seen (the service is known to
repeat pages and to overstate the total). A category with no paper that day is asked once more
without the day: no paper at all means arXiv does not know the category, which is reported.
The caller's fetcher spaces requests 3 seconds apart."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from datetime import date

from newsletter.errors import BadItem, SourceError
from newsletter.sources.arxiv_xml import NS, arxiv_categories, parse_document, text_of
from newsletter.sources.dates import parse_iso
from newsletter.sources.http_client import HttpFetcher, HttpStatusError
from newsletter.sources.interface import Item
from newsletter.sources.records import ListedPaper, Skipped, make_record, normalize_arxiv_id

PAGE_SIZE = 200
MAX_PAGES = 100  # a guard only: 20,000 submissions to one category in one day


def query_for(category: str, day: date | None) -> str:
    if day is None:
        return f"cat:{category}"
    stamp = day.strftime("%Y%m%d")
    return f"cat:{category} AND submittedDate:[{stamp}0000 TO {stamp}2359]"


def parse_entry(entry: ET.Element) -> ListedPaper:
    """Links are rebuilt from the versionless id, so every source points at the same pages."""
    entry_id = text_of(entry, "atom:id") or ""
    if normalize_arxiv_id(entry_id) is None:
        raise BadItem(f"id {entry_id[:80]!r} is not an arXiv abstract URL")
    primary = entry.find("arxiv:primary_category", NS)
    terms = [primary.get("term") if primary is not None else None]
    terms += [c.get("term") for c in entry.findall("atom:category", NS)]
    published = parse_iso(text_of(entry, "atom:published"), "published")
    return make_record(
        "arxiv",
        arxiv_id=entry_id,
        title=text_of(entry, "atom:title"),
        abstract=text_of(entry, "atom:summary"),
        authors=[text_of(a, "atom:name") or "" for a in entry.findall("atom:author", NS)],
        published_at=published,
        announced_on=published.date() if published else None,  # the API's nearest date
        categories=arxiv_categories(terms),
    )


def parse_feed(content: bytes, url: str) -> tuple[list[ET.Element], int | None]:
    """The page's entries and the total number of results the service claims (None: unsaid)."""
    feed = parse_document(content, url)
    entries = feed.findall("atom:entry", NS)
    if len(entries) == 1 and "/api/errors" in (text_of(entries[0], "atom:id") or ""):
        reason = " ".join((text_of(entries[0], "atom:summary") or "unknown error").split())
        raise SourceError(f"{url}: the arXiv API refused the query: {reason}")
    total = (text_of(feed, "opensearch:totalResults") or "").strip()
    return entries, int(total) if total.isdigit() else None


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

    def _page(
        self, query: str, start: int, size: int
    ) -> tuple[list[ET.Element], int | None] | None:
        params: dict[str, str | int] = {
            "search_query": query,
            "sortBy": "submittedDate",
            "sortOrder": "descending",
            "start": start,
            "max_results": size,
        }
        try:
            response = self.fetcher.get(self.api_url, params)
        except HttpStatusError as exc:
            if exc.body.lstrip().startswith(b"<"):
                parse_feed(exc.body, self.api_url)  # raises with the API's own reason
            raise
        if response is None:
            return None
        return parse_feed(response.content, self.api_url)

    def _category(self, category: str) -> Iterator[Item]:
        pages = MAX_PAGES if self.day is not None else 1
        seen: set[str] = set()
        read = 0
        for page in range(pages):
            answer = self._page(query_for(category, self.day), read, self.page_size)
            if answer is None:
                return
            entries, total = answer
            ids = {text_of(entry, "atom:id") or "" for entry in entries}
            if entries and ids <= seen:  # the same page again: the service ignores ``start``
                return
            seen |= ids
            for index, entry in enumerate(entries):
                try:
                    yield parse_entry(entry)
                except BadItem as exc:
                    yield Skipped(self.name, f"{category} entry {read + index}", str(exc))
            read += len(entries)
            if page == 0 and read == 0 and self.day is not None:
                self._check_known(category)
            short = len(entries) < self.page_size
            if short or (total is not None and read >= total):
                return

    def _check_known(self, category: str) -> None:
        """No paper on that day is normal (a weekend); no paper ever means a wrong name."""
        answer = self._page(query_for(category, None), 0, 1)
        if answer is not None and not answer[0] and not answer[1]:
            raise SourceError(
                f"{self.api_url}: arXiv has no paper in category {category!r}: "
                "is the name right? (see https://arxiv.org/category_taxonomy)"
            )
