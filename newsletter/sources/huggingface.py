"""Hugging Face Daily Papers: ``GET /api/daily_papers?date=YYYY-MM-DD&p=0&limit=100``.

Each item is ``{"paper": {...}, "publishedAt", "title", "summary", "thumbnail", "numComments",
"submittedBy", ...}``. The paper's own fields (id = arXiv id, title, summary, authors[].name,
publishedAt, upvotes, ai_summary, ai_keywords, githubRepo, githubStars, projectPage) sit under
``paper``; the item's ``publishedAt`` is when it was featured. Field names follow
``huggingface_hub``'s ``PaperInfo``. Upvotes keep growing for days after a paper is featured, so
without an explicit date we re-read the last few listings.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote

from newsletter.clock import as_utc
from newsletter.errors import BadItem, SourceError
from newsletter.sources.dates import parse_day, parse_iso
from newsletter.sources.http_client import HttpFetcher, HttpStatusError
from newsletter.sources.interface import Item
from newsletter.sources.records import ListedPaper, Skipped, make_record, normalize_arxiv_id

LOOKBACK_DAYS = 3
PAGE_SIZE = 100  # the API's maximum
MAX_PAGES = 30


def recent_days(now: datetime, days: int = LOOKBACK_DAYS) -> list[date]:
    today = as_utc(now).date()
    return [today - timedelta(days=n) for n in range(days)]


def _names(authors: Any) -> list[Any]:
    if authors is None:
        return []
    if not isinstance(authors, list):
        raise BadItem("paper.authors must be a list")
    return [a.get("name") if isinstance(a, dict) else a for a in authors]


def parse_item(raw: Any, listing_day: date | None, paper_url: str) -> ListedPaper:
    """One daily-papers item; the listing we asked for is the most reliable featured day."""
    if not isinstance(raw, dict) or not isinstance(raw.get("paper"), dict):
        raise BadItem('item must be an object with a "paper" object')
    paper: dict[str, Any] = raw["paper"]
    own_id = paper.get("id")
    if not isinstance(own_id, str) or not own_id.strip():
        raise BadItem("missing paper.id")
    featured = listing_day or parse_day(raw.get("publishedAt"), "publishedAt")
    # Not every paper page is an arXiv paper; those link their Hugging Face page instead.
    page = None if normalize_arxiv_id(own_id) else paper_url + quote(own_id.strip())
    published = parse_iso(paper.get("publishedAt"), "paper.publishedAt")
    return make_record(
        "hf",
        own_id=own_id,
        arxiv_id=own_id,
        url=page,
        title=paper.get("title") or raw.get("title"),
        abstract=paper.get("summary") or raw.get("summary"),
        authors=_names(paper.get("authors")),
        published_at=published,
        announced_on=published.date() if published else None,
        featured_on=featured or parse_day(paper.get("submittedOnDailyAt"), "submittedOnDailyAt"),
        upvotes=paper.get("upvotes"),
        comments=raw.get("numComments"),
        github_url=paper.get("githubRepo"),
        github_stars=paper.get("githubStars"),
        project_url=paper.get("projectPage"),
        thumbnail_url=raw.get("thumbnail"),
        ai_summary=paper.get("ai_summary"),
        ai_keywords=paper.get("ai_keywords"),
    )


class HuggingFaceSource:
    """The daily listings for ``days`` (None: the latest listing), every page of each."""

    name = "hf"

    def __init__(
        self,
        fetcher: HttpFetcher,
        api_url: str,
        days: Sequence[date | None],
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.fetcher = fetcher
        self.api_url = api_url
        self.days = list(days)
        self.page_size = page_size
        root = api_url.split("/api/", 1)[0]
        self.paper_url = f"{root}/papers/"

    def items(self) -> Iterator[Item]:
        refused = 0
        for day in self.days:
            try:
                yield from self._listing(day)
            except HttpStatusError as exc:
                # HF answers 400 for a day whose listing is not open yet (today, early UTC).
                if exc.status not in (400, 404) or day is None:
                    raise
                refused += 1
        if self.days and refused == len(self.days):
            raise SourceError(f"{self.api_url}: no listing for any of the requested days")

    def _listing(self, day: date | None) -> Iterator[Item]:
        seen_ids: set[str] = set()
        for page in range(MAX_PAGES):
            params: dict[str, str | int] = {"p": page, "limit": self.page_size}
            if day is not None:
                params["date"] = day.isoformat()
            response = self.fetcher.get(self.api_url, params)
            if response is None:
                return
            try:
                data = response.json()
            except ValueError as exc:
                raise SourceError(f"{self.api_url}: the answer is not JSON") from exc
            if not isinstance(data, list):
                raise SourceError(f"{self.api_url}: expected a JSON list of papers")
            ids = {str(item["paper"].get("id")) for item in data if _has_paper(item)}
            if not data or (ids and ids <= seen_ids):  # a server that ignores ``p`` repeats
                return
            seen_ids |= ids
            where = f"{day.isoformat() if day else 'latest'} page {page}"
            for index, raw in enumerate(data):
                try:
                    yield parse_item(raw, day, self.paper_url)
                except BadItem as exc:
                    yield Skipped(self.name, f"{where} item {index}{_id_of(raw)}", str(exc))
            if len(data) < self.page_size:
                return


def _has_paper(item: Any) -> bool:
    return isinstance(item, dict) and isinstance(item.get("paper"), dict)


def _id_of(raw: Any) -> str:
    paper_id = raw["paper"].get("id") if _has_paper(raw) else None
    return f" ({paper_id})" if isinstance(paper_id, str) else ""
