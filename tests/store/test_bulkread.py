"""Reading rows through psycopg: the same rows as SQLAlchemy's result, ranges and lists alike."""

from __future__ import annotations

from sqlalchemy import select

from newsletter.store.bulkread import plain_rows
from newsletter.store.database import Database
from newsletter.store.idsets import among
from newsletter.store.models import Subscriber
from tests.delivery.helpers import add_subscriber


def test_plain_rows_match_sqlalchemy_rows_for_ranges_and_lists(db: Database) -> None:
    ids = [add_subscriber(db, f"r{n}@example.org") for n in range(6)]
    with db.session() as session:
        conn = session.connection()
        for wanted in (ids[1:4], [ids[0], ids[5]], ids[:1]):
            statement = (
                select(Subscriber.id, Subscriber.email)
                .where(among(Subscriber.id, wanted))
                .order_by(Subscriber.id)
            )
            expected = [tuple(row) for row in conn.execute(statement).all()]
            got = [tuple(row) for row in plain_rows(conn, statement)]
            assert got == expected
            # A range may bring back ids in between that were not asked for: callers filter.
            assert set(wanted) <= {row[0] for row in got}
