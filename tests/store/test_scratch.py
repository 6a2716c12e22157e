"""Throwaway databases: migrated when asked, and gone afterwards whatever happened inside."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from newsletter.store.scratch import scratch_database


def test_a_sqlite_scratch_database_is_migrated_and_deleted(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), scratch_database(None, tmp_path, "s") as url:
        engine = create_engine(url)
        assert "subscribers" in inspect(engine).get_table_names()
        engine.dispose()
        raise RuntimeError("the block fails")
    assert list(tmp_path.iterdir()) == []


def test_a_postgres_scratch_database_is_dropped(tmp_path: Path) -> None:
    admin_url = os.environ.get("NEWSLETTER_TEST_POSTGRES_URL")
    if not admin_url:
        pytest.skip("PostgreSQL tests need NEWSLETTER_TEST_POSTGRES_URL (set by make test)")
    with scratch_database(admin_url, tmp_path, "newsletter_scratch", migrated=False) as url:
        name = make_url(url).database
        engine = create_engine(url)
        assert inspect(engine).get_table_names() == []  # not migrated, as asked
        engine.dispose()
    admin = create_engine(admin_url)
    with admin.connect() as conn:
        left = conn.scalar(text("SELECT count(*) FROM pg_database WHERE datname = :n"), {"n": name})
    admin.dispose()
    assert left == 0
