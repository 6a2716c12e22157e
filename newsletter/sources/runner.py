"""Running sources into the store, for the scheduler, ``make run`` and ``newsletter ingest``.

A source that is down (or yields something our parser chokes on) becomes an error line in the
report; what it yielded before failing is kept, and the next run simply tries again. Nothing a
source does escapes :func:`ingest_configured`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

import httpx

from newsletter.config import Settings
from newsletter.errors import NewsletterError
from newsletter.sources.configured import SourceBuilder, sample_path
from newsletter.sources.files import FileSource
from newsletter.sources.http_client import HttpFetcher, make_client
from newsletter.sources.interface import Item, Source
from newsletter.sources.records import Skipped
from newsletter.store.database import Database
from newsletter.store.papers import UpsertCounts, store_items

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())  # the service configures logging; the CLI prints reports


@dataclass
class SourceReport:
    source: str
    counts: UpsertCounts = field(default_factory=UpsertCounts)
    error: str | None = None

    def summary(self) -> str:
        c = self.counts
        text = f"{c.new} new, {c.updated} updated, {c.unchanged} unchanged, {c.skipped} skipped"
        if c.replaced:
            text += f", {c.replaced} replaced ({c.revised} of ours revised)"
        return f"{text}; failed: {self.error}" if self.error else text


@dataclass
class IngestReport:
    sources: list[SourceReport] = field(default_factory=list)

    def _total(self) -> UpsertCounts:
        total = UpsertCounts()
        for report in self.sources:
            total.add(report.counts)
        return total

    @property
    def new(self) -> int:
        return sum(r.counts.new for r in self.sources)

    @property
    def updated(self) -> int:
        return sum(r.counts.updated for r in self.sources)

    @property
    def unchanged(self) -> int:
        return sum(r.counts.unchanged for r in self.sources)

    @property
    def skipped(self) -> int:
        return sum(r.counts.skipped for r in self.sources)

    @property
    def reasons(self) -> list[Skipped]:
        return self._total().reasons

    @property
    def failed(self) -> list[SourceReport]:
        return [r for r in self.sources if r.error]

    def summary(self) -> str:
        return SourceReport("all", self._total()).summary()


def run_source(
    source: Source,
    db: Database,
    *,
    now: datetime,
    fetcher: HttpFetcher | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> SourceReport:
    """Store everything ``source`` yields; a failure ends it early and is reported."""
    report = SourceReport(source.name)

    def guarded() -> Iterator[Item]:
        try:
            yield from source.items()
        except NewsletterError as exc:
            report.error = str(exc)
        except Exception as exc:  # a parser bug must not stop the other sources
            logger.exception("source %s failed", source.name)
            report.error = f"unexpected {type(exc).__name__}: {exc}"

    try:
        report.counts = store_items(db, guarded(), now=now, on_progress=on_progress)
    except Exception as exc:  # the database, mostly; the scheduler must keep running
        logger.exception("storing papers from %s failed", source.name)
        report.error = f"storing failed: {type(exc).__name__}: {exc}"
    if report.error is None and fetcher is not None:
        fetcher.commit()
    log = logger.warning if report.error else logger.info
    log("ingest %s: %s", source.name, report.summary())
    return report


def ingest_configured(
    settings: Settings,
    db: Database,
    *,
    now: datetime,
    client: httpx.Client | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> IngestReport:
    """Every source in ``settings.ingest_sources``; never raises for a source that is down."""
    http = client if client is not None else make_client(settings)
    builder = SourceBuilder(settings, http, now=now, sleep=sleep)
    report = IngestReport()
    try:
        for name in dict.fromkeys(settings.ingest_sources):
            try:
                built = builder.build(name)
            except NewsletterError as exc:
                report.sources.append(SourceReport(name, error=str(exc)))
                continue
            report.sources.append(run_source(built.source, db, now=now, fetcher=built.fetcher))
    finally:
        if client is None:
            http.close()
    return report


def ingest_sample(db: Database, *, now: datetime) -> IngestReport:
    """The bundled sample listing, so a fresh install has papers to match and mail."""
    source = FileSource(sample_path(), now=now, name="sample")
    return IngestReport([run_source(source, db, now=now)])
