"""The schema: migrations are the truth, and the database itself refuses duplicates."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from newsletter.store import migrate
from newsletter.store.database import Database
from newsletter.store.models import Base, Delivery, Edition, Frequency, Paper, Subscriber

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def test_models_and_migrations_agree(db: Database) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_database_is_at_head(db: Database) -> None:
    assert migrate.current_revision(db.engine) == migrate.head_revision(db.url)


def test_upgrade_twice_changes_nothing(db: Database) -> None:
    migrate.upgrade(db.url)
    assert migrate.current_revision(db.engine) == migrate.head_revision(db.url)


def _subscriber(email: str) -> Subscriber:
    return Subscriber(email=email, created_at=NOW, token_nonce="n", origin="cli")


def test_one_subscriber_per_email(db: Database) -> None:
    with db.session() as session:
        session.add(_subscriber("a@example.org"))
    with pytest.raises(IntegrityError), db.session() as session:
        session.add(_subscriber("a@example.org"))


def test_one_paper_per_source_id(db: Database) -> None:
    def paper() -> Paper:
        return Paper(source_id="2401.00001", title="T", first_seen_at=NOW, updated_at=NOW)

    with db.session() as session:
        session.add(paper())
    with pytest.raises(IntegrityError), db.session() as session:
        session.add(paper())


def test_one_delivery_per_edition_and_subscriber(db: Database) -> None:
    with db.session() as session:
        subscriber = _subscriber("b@example.org")
        edition = Edition(frequency=Frequency.DAILY, issue_date=date(2026, 11, 22), created_at=NOW)
        session.add_all([subscriber, edition])
        session.flush()
        ids = {"edition_id": edition.id, "subscriber_id": subscriber.id}
        session.add(Delivery(**ids, created_at=NOW))
    with pytest.raises(IntegrityError), db.session() as session:
        session.add(Delivery(**ids, created_at=NOW))


def test_one_edition_per_frequency_and_day(db: Database) -> None:
    def edition() -> Edition:
        return Edition(frequency=Frequency.WEEKLY, issue_date=date(2026, 11, 23), created_at=NOW)

    with db.session() as session:
        session.add(edition())
    with pytest.raises(IntegrityError), db.session() as session:
        session.add(edition())


def test_removing_a_subscriber_removes_their_deliveries(db: Database) -> None:
    with db.session() as session:
        subscriber = _subscriber("c@example.org")
        edition = Edition(frequency=Frequency.DAILY, issue_date=date(2026, 11, 22), created_at=NOW)
        session.add_all([subscriber, edition])
        session.flush()
        session.add(Delivery(edition_id=edition.id, subscriber_id=subscriber.id, created_at=NOW))
    with db.session() as session:
        session.execute(text("DELETE FROM subscribers"))
    with db.session() as session:
        assert session.scalar(text("SELECT count(*) FROM deliveries")) == 0


def test_sqlite_runs_with_wal_and_foreign_keys(db: Database) -> None:
    if not db.is_sqlite:
        pytest.skip("SQLite pragmas only")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
