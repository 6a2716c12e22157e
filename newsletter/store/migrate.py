"""Alembic, driven from code: the only way the schema is created or changed."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from alembic import command

_PACKAGE = Path(__file__).resolve().parent.parent


def script_location() -> Path:
    """The repository's ``alembic/`` folder, or the copy bundled into an installed wheel."""
    for candidate in (_PACKAGE.parent / "alembic", _PACKAGE / "_alembic"):
        if (candidate / "env.py").exists():
            return candidate
    raise FileNotFoundError("alembic migrations folder not found")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location()))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def head_revision(url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
