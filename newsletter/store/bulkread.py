"""Reading many rows at the driver's speed: the statement is SQLAlchemy's, the rows psycopg's.

An edition build reads every subscriber's topics, millions of rows. SQLAlchemy's result layer
(row objects, per-column processors) took a third more time than psycopg's own tuples for the
same query, and none of it is needed for plain text and integer columns. SQLite keeps the usual
path: it is for small installations, where this does not matter.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from sqlalchemy import Connection
from sqlalchemy.sql import Select


def plain_rows(conn: Connection, statement: Select[*tuple[Any, ...]]) -> Sequence[tuple[Any, ...]]:
    """All rows of ``statement`` as tuples, in this connection's transaction."""
    if conn.dialect.name != "postgresql":
        return [tuple(row) for row in conn.execute(statement).all()]
    compiled = statement.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    raw: psycopg.Connection[Any] = conn.connection.driver_connection  # type: ignore[assignment]
    with raw.cursor() as cursor:
        cursor.execute(str(compiled), compiled.params)
        return cursor.fetchall()
