"""Writing one chunk of an edition's ledger rows at the database's speed.

PostgreSQL gets the rows through COPY, several times faster than any INSERT, inside a savepoint.
COPY knows no ``ON CONFLICT``: if another build wrote one of these rows first, the unique
(edition, subscriber) constraint rejects the whole COPY, the savepoint is rolled back and the
chunk goes again as a multi-row ``INSERT ... ON CONFLICT DO NOTHING``, which skips exactly the
rows that exist. SQLite always takes that second path (batched by SQLAlchemy into multi-row
statements). Either way the result says which rows this call really wrote, for the stats.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

import psycopg
from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from newsletter.delivery.editions.choosing import Choice
from newsletter.delivery.ledger.claims import NOTHING_RELEVANT
from newsletter.store.copying import copy_text, text_value
from newsletter.store.models import Delivery, DeliveryStatus

COPY_COLUMNS = (
    "edition_id", "subscriber_id", "status", "paper_ids", "reasons", "attempts",
    "next_attempt_at", "last_reply", "created_at",
)

Planned = tuple[int, Choice]  # subscriber id, what they get


def write_rows(
    session: Session, edition_id: int, planned: Sequence[Planned], now: datetime
) -> list[Planned]:
    """Insert the chunk's rows, skipping any another build already wrote; returns those written."""
    if not planned:
        return []
    if session.get_bind().dialect.name == "postgresql":
        try:
            with session.begin_nested():
                _copy(session.connection(), edition_id, planned, now)
            return list(planned)
        except psycopg.errors.UniqueViolation:
            pass  # a concurrent build got there first for some: skip exactly those below
    return _insert(session.connection(), edition_id, planned, now)


def _status(choice: Choice) -> tuple[DeliveryStatus, str | None]:
    if choice.mode == "nothing":
        return DeliveryStatus.SUPPRESSED, NOTHING_RELEVANT
    return DeliveryStatus.PENDING, None


def _copy(conn: Connection, edition_id: int, planned: Sequence[Planned], now: datetime) -> None:
    """COPY, with all but the two ids of a line formatted once per choice.

    A choice is shared by many readers and every row of a build has the same clock; the text
    format itself is :mod:`newsletter.store.copying`'s.
    """
    stamp = now.isoformat()
    tails: dict[int, tuple[Choice, str]] = {}
    lines = []
    for subscriber_id, choice in planned:
        found = tails.get(id(choice))
        if found is None:
            status, reply = _status(choice)
            paper_ids, reasons = choice.encoded
            tail = "\t".join(map(text_value, (status.value, paper_ids, reasons, 0, stamp, reply,
                                              stamp)))
            found = tails[id(choice)] = (choice, tail)
        lines.append(f"{edition_id}\t{subscriber_id}\t{found[1]}\n")
    copy_text(conn, Delivery.__tablename__, COPY_COLUMNS, lines)


def _insert(
    conn: Connection, edition_id: int, planned: Sequence[Planned], now: datetime
) -> list[Planned]:
    table = cast(Table, Delivery.__table__)
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(table)
        .on_conflict_do_nothing(index_elements=["edition_id", "subscriber_id"])
        .returning(table.c.subscriber_id)
    )
    rows = []
    for subscriber_id, choice in planned:
        status, reply = _status(choice)
        rows.append({
            "edition_id": edition_id,
            "subscriber_id": subscriber_id,
            "status": status,
            "paper_ids": choice.paper_ids,
            "reasons": choice.reasons,
            "attempts": 0,
            "next_attempt_at": now,
            "last_reply": reply,
            "created_at": now,
        })
    written = set(conn.execute(statement, rows).scalars())
    return [item for item in planned if item[0] in written]
