"""``newsletter serve``: the web app, the scheduler and a sender in one process."""

from __future__ import annotations

import asyncio

import typer

from newsletter.cli.context import settings as current_settings


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
) -> None:
    """Run the web app, the scheduler and a sender in one process (stops cleanly on SIGTERM)."""
    # Imported here: the web app and matching take seconds to load, and the other commands
    # (and `newsletter --help`) should not pay for them.
    from newsletter.service import configure_logging, run_service
    from newsletter.store import migrate

    configure_logging()
    config = current_settings()
    migrate.upgrade(config.database_url)
    asyncio.run(run_service(config, host=host, port=port))
