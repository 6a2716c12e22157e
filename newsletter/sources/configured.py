"""From a source name and the settings to a ready source, shared by the runner and the CLI.

Without a day, arXiv is read from the announcement RSS (one request for every category, the
newest papers); with a day, from the query API (every paper submitted that day). Hugging Face
re-reads the last few daily listings so that upvotes keep growing after a paper is featured.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from pathlib import Path

import httpx

from newsletter.config import Settings, SourceName
from newsletter.errors import InvalidInput
from newsletter.sources.arxiv_api import ArxivApiSource
from newsletter.sources.arxiv_rss import ArxivRssSource
from newsletter.sources.categories import check_category
from newsletter.sources.files import FileSource
from newsletter.sources.http_client import HttpFetcher
from newsletter.sources.huggingface import HuggingFaceSource, recent_days
from newsletter.sources.interface import Source
from newsletter.sources.pacing import ARXIV_INTERVAL, Pacer


def sample_path() -> Path:
    """The bundled listing (272 papers), shipped inside the package."""
    return Path(str(resources.files("newsletter.sources").joinpath("sample", "papers.json")))


@dataclass(frozen=True)
class SourceOptions:
    """What one run asks for beyond the settings (the CLI's --date, --category, --file)."""

    day: date | None = None
    categories: tuple[str, ...] = ()
    file: Path | None = None


@dataclass
class Built:
    source: Source
    fetcher: HttpFetcher | None = None


class SourceBuilder:
    """Builds sources for one run: one HTTP client, and one pacer for every arXiv request."""

    def __init__(
        self,
        settings: Settings,
        client: httpx.Client,
        *,
        now: datetime,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.client = client
        self.now = now
        self.sleep = sleep
        self.arxiv_pacer = Pacer(ARXIV_INTERVAL, clock=clock, sleep=sleep)

    def fetcher(self, pacer: Pacer | None = None) -> HttpFetcher:
        return HttpFetcher(
            self.client, sleep=self.sleep, pacer=pacer, max_bytes=self.settings.http_max_bytes
        )

    def build(self, name: SourceName, options: SourceOptions = SourceOptions()) -> Built:
        if name == "hf":
            days: Sequence[date | None] = [options.day] if options.day else recent_days(self.now)
            fetcher = self.fetcher()
            return Built(HuggingFaceSource(fetcher, self.settings.hf_api_url, days), fetcher)
        if name == "arxiv":
            categories = options.categories or tuple(self.settings.arxiv_categories)
            if not categories:
                raise InvalidInput("no arXiv category to read", where="--category")
            try:
                categories = tuple(check_category(name) for name in categories)
            except ValueError as exc:
                raise InvalidInput(str(exc), where="--category") from None
            fetcher = self.fetcher(self.arxiv_pacer)
            if options.day is not None:
                api = self.settings.arxiv_api_url
                return Built(ArxivApiSource(fetcher, api, categories, options.day), fetcher)
            return Built(ArxivRssSource(fetcher, self.settings.arxiv_rss_url, categories), fetcher)
        if options.file is not None or self.settings.ingest_file is not None:
            path = options.file or self.settings.ingest_file
            assert path is not None
            return Built(FileSource(path, now=self.now))
        return Built(FileSource(sample_path(), now=self.now, name="sample"))
