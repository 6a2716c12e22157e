"""``newsletter db``: schema migrations."""

from __future__ import annotations

import typer

from newsletter.cli.context import console, settings

app = typer.Typer(help="Create or upgrade the database schema.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply every migration up to REVISION (also run at service start)."""
    from newsletter.store import migrate  # Alembic loads slowly; only this command needs it.

    url = settings().database_url
    migrate.upgrade(url, revision)
    console.print(f"database is at revision [bold]{migrate.head_revision(url)}[/bold]")
