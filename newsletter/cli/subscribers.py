"""``newsletter subscribers``: add, list, remove, import and export subscribers."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Column, Table

from newsletter.cli.context import console, database, errors, fail, now, settings
from newsletter.errors import InvalidInput
from newsletter.preferences import TopicSpec
from newsletter.store.models import Frequency, SubscriberStatus
from newsletter.store.roster import Defaults, export_csv, import_csv, parse_timezone
from newsletter.store.subscribers import (
    create_subscriber,
    find_subscriber,
    list_subscribers,
    normalize_email,
    remove_subscriber,
)

app = typer.Typer(help="Manage subscribers.", no_args_is_help=True)


def _topics(
    topic: list[str], keyword: list[str], author: list[str], exclude: list[str]
) -> list[TopicSpec]:
    specs = [TopicSpec.parse(t) for t in topic]
    if len(specs) > 1 and keyword:
        raise InvalidInput(
            "with several --topic options, give keywords inline: --topic 'label: kw1, kw2'",
            where="--keyword",
        )
    if not specs:
        if not keyword:
            raise InvalidInput("give at least one --topic or --keyword", where="--topic")
        specs = [TopicSpec.build("", keyword, author, exclude)]
    else:
        first = specs[0]
        specs[0] = TopicSpec.build(first.label, first.keywords + tuple(keyword), author, exclude)
    return specs


@app.command("add")
def add(
    email: str = typer.Argument(..., help="The subscriber's address."),
    topic: list[str] = typer.Option([], "--topic", "-t", help="'label' or 'label: kw1, kw2'."),
    keyword: list[str] = typer.Option([], "--keyword", "-k", help="Keyword for the topic."),
    author: list[str] = typer.Option([], "--author", help="Followed author."),
    exclude: list[str] = typer.Option([], "--exclude", help="Never send papers with this word."),
    frequency: Frequency = typer.Option(Frequency.DAILY, help="daily or weekly."),
    send_hour: int = typer.Option(None, min=0, max=23, help="Local hour to send at."),
    timezone: str = typer.Option(None, help="IANA timezone, e.g. Europe/Paris."),
    digest_size: int = typer.Option(None, min=1, max=100, help="Papers per digest."),
    always_send: bool = typer.Option(False, help="Send even when nothing matched."),
) -> None:
    """Add an active subscriber (operator-added subscribers need no confirmation)."""
    config = settings()
    normalize_email(email)
    specs = _topics(topic, keyword, author, exclude)
    tz = parse_timezone(timezone or config.default_timezone)
    db = database()
    with db.session() as session:
        if find_subscriber(session, email) is not None:
            fail(f"{email} is already a subscriber")
        subscriber = create_subscriber(
            session,
            email,
            specs,
            now=now(),
            frequency=frequency,
            send_hour=config.default_send_hour if send_hour is None else send_hour,
            timezone=tz,
            digest_size=digest_size or config.digest_size,
            always_send=always_send,
        )
        console.print(f"added [bold]{subscriber.email}[/bold] with {len(specs)} topic(s)")


@app.command("list")
def list_(
    status: SubscriberStatus | None = typer.Option(None, help="Only this status."),
    limit: int | None = typer.Option(None, min=1, help="At most this many rows."),
) -> None:
    """Show subscribers as a table."""
    with database().session() as session:
        rows = list_subscribers(session, status, limit)
        table = Table("status", "frequency", "send at", "topics", "since")
        table.columns.insert(0, Column("email", no_wrap=True))
        for s in rows:
            table.add_row(
                s.email,
                s.status.value,
                s.frequency.value,
                f"{s.send_hour:02d}:00 {s.timezone}",
                "; ".join(t.label for t in s.topics),
                s.created_at.date().isoformat(),
            )
        console.print(table)
        console.print(f"{len(rows)} subscriber(s)")


@app.command("remove")
def remove(email: str = typer.Argument(..., help="The subscriber's address.")) -> None:
    """Erase a subscriber with their topics and delivery records."""
    with database().session() as session:
        remove_subscriber(session, email)
    console.print(f"removed {email}")


@app.command("import")
def import_(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV with an email column."),
) -> None:
    """Import a CSV: good rows are added, bad ones reported by line; a re-import changes nothing."""
    config = settings()
    defaults = Defaults(
        Frequency.DAILY, config.default_send_hour, config.default_timezone, config.digest_size
    )
    with file.open(encoding="utf-8-sig") as handle:
        total = max(sum(1 for _ in handle) - 1, 0)
    columns = (TextColumn("importing"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=errors, transient=True) as bar, database().session() as session:
        task = bar.add_task("import", total=total)
        report = import_csv(session, file, defaults, now(), lambda n: bar.advance(task, n))
    for problem in report.problems:
        errors.print(f"[yellow]{problem}[/yellow]", highlight=False, soft_wrap=True)
    console.print(
        f"added {report.added}, unchanged {report.unchanged}, problems {len(report.problems)}"
    )
    if report.problems:
        raise typer.Exit(1)


@app.command("export")
def export(
    file: Path = typer.Argument(..., dir_okay=False, help="Where to write the CSV."),
) -> None:
    """Write every subscriber to a CSV that `subscribers import` reads back unchanged."""
    with database().session() as session:
        count = export_csv(session, file)
    console.print(f"exported {count} subscriber(s) to {file}")
