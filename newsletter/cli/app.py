"""``newsletter``: the operator's command line. Only commands that work are registered here."""

from __future__ import annotations

from typing import Any

import typer
from sqlalchemy.exc import OperationalError
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
        except OperationalError as exc:
            reason = f"database: {exc.orig}"
        errors.print(f"[red]error:[/red] {reason}", highlight=False, soft_wrap=True, markup=True)
        raise typer.Exit(1)


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
