"""``newsletter ingest``: read paper listings into the store, with a progress bar and a summary."""

from __future__ import annotations

import enum
from datetime import date
from functools import partial
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

from newsletter.cli.context import console, database, errors, fail, now, settings
from newsletter.config import SourceName
from newsletter.errors import InvalidInput
from newsletter.sources.configured import SourceBuilder, SourceOptions
from newsletter.sources.files import FileSource
from newsletter.sources.http_client import make_client
from newsletter.sources.runner import IngestReport, run_source

MAX_SHOWN = 20


class SourceChoice(enum.StrEnum):
    HF = "hf"
    ARXIV = "arxiv"
    FILE = "file"


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidInput("must be a YYYY-MM-DD date", where="--date") from None
    if day > now().date():
        raise InvalidInput("is in the future", where="--date")
    return day


def _names(source: SourceChoice | None, options: SourceOptions) -> list[SourceName]:
    """The sources to run; options that no chosen source reads are refused, not ignored."""
    if options.file is not None and source not in (None, SourceChoice.FILE):
        raise InvalidInput("--file goes with --source file", where="--file")
    names: list[SourceName]
    if source is not None:
        names = [source.value]
    elif options.file is not None:
        names = ["file"]
    else:
        names = list(dict.fromkeys(settings().ingest_sources))
    if options.categories and "arxiv" not in names:
        raise InvalidInput("--category goes with --source arxiv", where="--category")
    if options.day is not None and names == ["file"]:
        raise InvalidInput("--date goes with --source hf or arxiv", where="--date")
    return names


def _print(report: IngestReport) -> None:
    for source in report.sources:
        colour = "red" if source.error else "green"
        line = f"[{colour}]{source.source}[/{colour}]: {escape(source.summary())}"
        console.print(line, highlight=False, soft_wrap=True)
    for skipped in report.reasons[:MAX_SHOWN]:
        errors.print(
            f"[yellow]skipped {escape(str(skipped))}[/yellow]", highlight=False, soft_wrap=True
        )
    if report.skipped > MAX_SHOWN:
        errors.print(f"[yellow]... and {report.skipped - MAX_SHOWN} more skipped[/yellow]")
    console.print(f"ingested: {report.summary()}", highlight=False)


def ingest(
    source: SourceChoice | None = typer.Option(
        None, "--source", "-s", help="Only this source; default: NEWSLETTER_INGEST_SOURCES."
    ),
    day: str | None = typer.Option(
        None, "--date", help="YYYY-MM-DD: that day's Hugging Face listing / arXiv submissions."
    ),
    category: list[str] = typer.Option(
        [], "--category", "-c", help="arXiv category (repeatable); default: the configured ones."
    ),
    file: Path | None = typer.Option(
        None, "--file", "-f", exists=True, dir_okay=False, help="JSON list or JSON Lines papers."
    ),
) -> None:
    """Fetch papers and store them; reports new, updated, unchanged and skipped papers."""
    options = SourceOptions(_day(day), tuple(category), file)
    names = _names(source, options)
    config, db, moment = settings(), database(), now()
    report = IngestReport()
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with make_client(config) as client, Progress(*columns, console=errors, transient=True) as bar:
        builder = SourceBuilder(config, client, now=moment)
        for name in names:
            built = builder.build(name, options)
            total = built.source.expected_count() if isinstance(built.source, FileSource) else None
            task = bar.add_task(name, total=total)
            report.sources.append(
                run_source(
                    built.source,
                    db,
                    now=moment,
                    fetcher=built.fetcher,
                    on_progress=partial(bar.advance, task),
                )
            )
    db.dispose()
    _print(report)
    if report.failed:
        fail(f"{len(report.failed)} source(s) could not be read; the next run tries again")
