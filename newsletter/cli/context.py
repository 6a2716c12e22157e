"""What every command needs: settings, the database, the clock, and a way to fail in one line."""

from __future__ import annotations

from datetime import datetime
from typing import NoReturn

import typer
from rich.console import Console

from newsletter.clock import utc_now
from newsletter.config import Settings, get_settings
from newsletter.store.database import Database

console = Console()
errors = Console(stderr=True)


def settings() -> Settings:
    return get_settings()


def database() -> Database:
    return Database(settings().database_url)


def now() -> datetime:
    """The clock is read here, at the edge, and passed inward."""
    return utc_now()


def fail(message: str, code: int = 1) -> NoReturn:
    errors.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)
