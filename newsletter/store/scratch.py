"""Throwaway databases for the test suite and the benchmarks, made and dropped in one place.

PostgreSQL: a new database beside the admin URL's (``CREATE DATABASE``), dropped with
``WITH (FORCE)`` however the block ends, so a crashed run's connections cannot keep it alive.
Without an admin URL: a SQLite file in ``folder``, deleted with its WAL files.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from newsletter.store import migrate


@contextmanager
def scratch_database(
    admin_url: str | None, folder: Path, label: str, *, migrated: bool = True
) -> Iterator[str]:
    """The URL of a new, empty database (migrated to the newest schema unless told not to)."""
    if not admin_url:
        path = folder / f"{label}.db"
        url = f"sqlite:///{path}"
        try:
            if migrated:
                migrate.upgrade(url)
            yield url
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    name = f"{label}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        if migrated:
            migrate.upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
