"""Shared fixtures: real databases (SQLite and PostgreSQL), a real SMTP server, a real browser.

Every test that asks for ``db`` runs twice, once per backend. PostgreSQL runs when
``NEWSLETTER_TEST_POSTGRES_URL`` points at a server (``.ci/run`` and ``make test`` set it); the
suite makes its own database there and drops it at the end.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from newsletter.config import Settings, get_settings, load_settings
from newsletter.store import migrate
from newsletter.store.database import Database
from newsletter.store.models import Base
from newsletter.store.scratch import scratch_database
from tests.smtp_server import SmtpServer

# pytest-xdist's workers export COLUMNS=80 and LINES=24. Rich reads them once, when the CLI's
# module-level consoles are made, and would then draw every table 80 columns wide whatever a
# test asks for; without them it reads COLUMNS at each print, as a test's ``env`` sets it.
for _name in ("COLUMNS", "LINES"):
    os.environ.pop(_name, None)

PG_ENV = "NEWSLETTER_TEST_POSTGRES_URL"
PG_SKIP = f"PostgreSQL tests need {PG_ENV} (set by make test and .ci/run)"
CHROMIUM = Path("/usr/bin/chromium")


# --- databases ----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating per test would be slow)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session, dropped afterwards."""
    admin_url = os.environ.get(PG_ENV)
    if not admin_url:
        pytest.skip(PG_SKIP)
    with scratch_database(admin_url, Path("."), f"newsletter_test_{os.getpid()}") as url:
        yield url


def _truncate_postgres(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, migrated database URL on each backend."""
    if request.param == "sqlite":
        if request.node.get_closest_marker("postgres_only"):
            pytest.skip("this test is about PostgreSQL-only behaviour")
        target = tmp_path / "newsletter.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        return f"sqlite:///{target}"
    url: str = request.getfixturevalue("postgres_url")
    _truncate_postgres(url)
    return url


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()


# --- settings and CLI ---------------------------------------------------------------------------
@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings for a test: its own var dir; keyword overrides as in the environment."""

    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {"var_dir": tmp_path / "var", "secret_key": "t" * 40}
        values.update(overrides)
        return load_settings(**values)

    return build


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Callable[..., None]]:
    """Point the CLI's settings (read from the environment) at a test database and var dir."""

    def apply(**variables: str) -> None:
        monkeypatch.setenv("NEWSLETTER_VAR_DIR", str(tmp_path / "var"))
        for name, value in variables.items():
            monkeypatch.setenv(f"NEWSLETTER_{name.upper()}", value)
        get_settings.cache_clear()

    monkeypatch.chdir(tmp_path)
    yield apply
    get_settings.cache_clear()


# --- SMTP -----------------------------------------------------------------------------------------
@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server on loopback that records messages and can be told to fail."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


# --- browser --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (its own browser download cannot work here).

    Module-scoped: while Playwright's sync API is open it marks an event loop as running in the
    main thread, so a session-wide browser would break every later ``asyncio.run``.
    """
    if not CHROMIUM.exists():
        pytest.skip("needs /usr/bin/chromium (apt-get install chromium; .ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield instance
        instance.close()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where tests save screenshots for people to look at."""
    path = Path(__file__).parent / "artifacts"
    path.mkdir(exist_ok=True)
    return path
