"""``newsletter``: the operator's command line. Only commands that work are registered here."""

from __future__ import annotations

from typing import Any

import typer
from sqlalchemy.exc import OperationalError, ProgrammingError
from typer.core import TyperGroup

from newsletter.cli import db, delivery, inbound, ingest, match, serve, subscribers
from newsletter.cli.context import errors
from newsletter.errors import NewsletterError


class _OneLineErrors(TyperGroup):
    """Every error we raise on purpose becomes one line on stderr and exit code 1."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except NewsletterError as exc:
            reason = str(exc)
        except (OperationalError, ProgrammingError) as exc:
            reason = f"database: {_first_line(exc.orig)}"
            if _missing_schema(exc):
                reason += " (is the schema there? run `newsletter db upgrade`)"
        errors.print(f"[red]error:[/red] {reason}", highlight=False, soft_wrap=True, markup=True)
        raise typer.Exit(1)


def _first_line(error: BaseException | None) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else repr(error)


def _missing_schema(exc: OperationalError | ProgrammingError) -> bool:
    """A table that is not there (SQLite's words, PostgreSQL's SQLSTATE 42P01): a database that
    was never migrated, or one older than this release."""
    return "no such table" in str(exc.orig) or getattr(exc.orig, "sqlstate", None) == "42P01"


app = typer.Typer(
    cls=_OneLineErrors,
    help="Trending research papers, personalised, in your subscribers' inboxes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
app.add_typer(db.app, name="db")
app.add_typer(subscribers.app, name="subscribers")
app.add_typer(inbound.app, name="inbound")
app.command("ingest")(ingest.ingest)
app.command("match")(match.match)
app.command("serve")(serve.serve)
delivery.register(app)


def main() -> None:
    app()
