"""``newsletter edition build|send|worker|preview|test-send|status``: editions and sending."""

from __future__ import annotations

import asyncio
import random
import signal
import webbrowser
from datetime import date, timedelta
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy import select

from newsletter.cli.context import console, database, errors, fail, now, settings
from newsletter.delivery.ledger.status import COLUMNS, edition_status
from newsletter.delivery.messages.message import validate_address
from newsletter.delivery.sending import runs
from newsletter.delivery.sending.sender import Summary
from newsletter.inbound.report import EDITION_COLUMNS, edition_counts, kind_counts
from newsletter.store.models import Edition, Frequency
from newsletter.store.subscribers import get_subscriber

edition_app = typer.Typer(help="Build editions (one issue per day or week).", no_args_is_help=True)


@edition_app.command("build")
def build(
    on: str = typer.Option(None, "--date", help="Issue date, YYYY-MM-DD (default: today, UTC)."),
    frequency: Frequency = typer.Option(Frequency.DAILY, help="daily or weekly."),
) -> None:
    """Queue one edition for every active subscriber of FREQUENCY (idempotent)."""
    from newsletter.delivery.editions.build import build_edition  # matching is slow to import

    clock = now()
    try:
        issue = date.fromisoformat(on) if on else clock.date()
    except ValueError:
        fail(f"--date {on!r} is not a date like 2024-05-01")
    db, config = database(), settings()
    if not errors.is_terminal:
        stats = build_edition(db, config, frequency=frequency, issue_date=issue, now=clock)
    else:
        columns = (TextColumn("building"), BarColumn(), MofNCompleteColumn(),
                   TimeRemainingColumn())
        with Progress(*columns, console=errors, transient=True) as bar:
            task = bar.add_task("build", total=None)
            stats = build_edition(
                db, config, frequency=frequency, issue_date=issue, now=clock,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    console.print(
        f"edition {stats.edition_id} ({frequency.value}, {issue}): {stats.due} due, "
        f"{stats.queued} queued ({stats.trending} trending-only), "
        f"{stats.nothing_relevant} with nothing relevant"
    )
    console.print(f"edition totals: {stats.totals}")


def _edition_exists(edition_id: int | None) -> None:
    if edition_id is None:
        return
    with database().session() as session:
        if session.scalar(select(Edition.id).where(Edition.id == edition_id)) is None:
            fail(f"no edition with id {edition_id} (see newsletter status)")


def _print_summary(summary: Summary) -> None:
    console.print(
        f"sent {summary.sent}, retrying {summary.retried}, failed {summary.failed}, "
        f"ambiguous {summary.ambiguous}, suppressed {summary.suppressed}"
    )


def send(
    edition: int = typer.Option(None, "--edition", help="Only this edition's deliveries."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Compose everything, send nothing."),
    retry_ambiguous: bool = typer.Option(
        False, "--retry-ambiguous", help="Queue ambiguous deliveries again first (may duplicate)."
    ),
) -> None:
    """Send every due delivery now, whatever each subscriber's preferred hour."""
    _edition_exists(edition)
    db, config = database(), settings()
    if dry_run:
        messages, renders = runs.dry_run(db, config, now(), edition)
        console.print(f"dry run: {messages} message(s) would be sent ({renders} distinct digests)")
        return
    total = runs.due_count(db, now(), edition)
    columns = (TextColumn("sending"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("send", total=total or None)
        summary = asyncio.run(runs.send_now(
            db, config, clock=now, rng=random.Random(), edition_id=edition,
            retry_ambiguous=retry_ambiguous, on_outcome=lambda _o: progress.advance(task),
        ))
    _print_summary(summary)


def worker(
    name: str = typer.Option(None, "--id", help="A name for this worker's leases."),
    processes: int = typer.Option(
        1, "--processes", min=1, max=64, help="Sender processes (one per core is a good start)."
    ),
) -> None:
    """Send due deliveries until stopped; SIGTERM/SIGINT finish in-flight mail and release."""
    if processes > 1:
        from newsletter.delivery.sending.supervisor import child_command, supervise

        settings()  # a bad setting fails here once, not in every child
        commands = [child_command(["worker", "--id", f"{name or 'p'}{n + 1}"])
                    for n in range(processes)]
        code = supervise(commands, report=lambda line: errors.print(line, highlight=False))
        console.print(f"workers stopped ({processes} processes)")
        raise typer.Exit(code)
    db, config = database(), settings()

    async def main() -> Summary:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        console.print(f"worker {runs.owner_name(name)} started", highlight=False)
        return await runs.work(db, config, name=name, stop=stop, clock=now, rng=random.Random())

    summary = asyncio.run(main())
    console.print("worker stopped; ", end="")
    _print_summary(summary)


def preview(
    email: str = typer.Option(..., "--email", help="The subscriber's address."),
    out: Path = typer.Option(Path("."), "--out", help="Folder for the preview files."),
    open_: bool = typer.Option(False, "--open", help="Open the HTML in a web browser."),
) -> None:
    """Write the subscriber's next digest as HTML and text files, and print their paths."""
    from newsletter.delivery.editions.preview import preview_digest  # matching is slow to import

    with database().session() as session:
        subscriber = get_subscriber(session, email)
        rendered = preview_digest(session, settings(), subscriber, now=now())
    if rendered is None:
        fail(f"nothing relevant for {email} right now, so no digest would be sent")
    out.mkdir(parents=True, exist_ok=True)
    stem = "digest-" + "".join(c if c.isalnum() else "_" for c in email)
    html, text = out / f"{stem}.html", out / f"{stem}.txt"
    html.write_text(rendered.html, encoding="utf-8")
    text.write_text(f"Subject: {rendered.subject}\n\n{rendered.text}", encoding="utf-8")
    console.print(f"{html}\n{text}", highlight=False, soft_wrap=True)
    if open_:
        webbrowser.open(html.resolve().as_uri())


def test_send(address: str = typer.Argument(..., help="Where to send the sample.")) -> None:
    """Send a sample digest to ADDRESS to check the SMTP settings."""
    validate_address(address)
    reply = asyncio.run(runs.test_send(database(), settings(), address, now()))
    console.print(f"sent to {address}: {reply}", highlight=False)


def status() -> None:
    """Per edition: how many deliveries are sent, pending, retrying, failed, bounced by mail...;
    then what came back by mail (unsubscribes, bounces, complaints, ignored)."""
    clock = now()
    with database().session() as session:
        rows = edition_status(session)
        by_mail = edition_counts(session, [row.edition_id for row in rows])
        inbound = kind_counts(session, since=clock - timedelta(days=7))
    if not rows:
        console.print("no editions yet (newsletter edition build)")
    else:
        table = Table("edition", "frequency", "date", *COLUMNS, *EDITION_COLUMNS)
        for row in rows:
            counts = [str(row.counts[c]) for c in COLUMNS]
            mailed = [str(by_mail[row.edition_id][c]) for c in EDITION_COLUMNS]
            table.add_row(str(row.edition_id), row.frequency.value, str(row.issue_date), *counts,
                          *mailed)
        console.print(table)
    mail = Table("inbound mail", "total", "last 7 days", "latest", title="Inbound mail")
    for item in inbound:
        latest = item.latest.strftime("%Y-%m-%d %H:%M") if item.latest else "-"
        mail.add_row(item.kind.value.replace("_", " "), str(item.total), str(item.recent), latest)
    console.print(mail)


def register(app: typer.Typer) -> None:
    app.add_typer(edition_app, name="edition")
    app.command("send")(send)
    app.command("worker")(worker)
    app.command("preview")(preview)
    app.command("test-send")(test_send)
    app.command("status")(status)
