"""Rows for PostgreSQL's COPY, in its text format, formatted here rather than by psycopg.

psycopg's ``Copy.write_row`` adapts every value through its type registry, about 13 µs a row
for a ledger row on this machine: more than everything else a bulk write does for that row.
The text format is simple and fully specified (tab-separated, ``\\N`` for NULL, backslash
escapes for backslash, newline, carriage return and tab), so values are formatted here and
a whole batch goes to the server as one string.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import Connection

Value = str | int | bool | datetime | None


def text_value(value: Value) -> str:
    """One value in COPY's text format (str enums are str: their value is written).

    Text is checked for the four special characters before any escaping, and escaped with
    chained ``replace``: ``str.translate`` with a table looks every character up in a dict and
    took 160 µs for a 1 kB text.
    """
    if type(value) is str:
        if "\\" in value or "\n" in value or "\r" in value or "\t" in value:
            return (
                value.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
                .replace("\t", "\\t")
            )
        return value
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return text_value(str(value))


def text_line(values: Iterable[Value]) -> str:
    return "\t".join(map(text_value, values)) + "\n"


def copy_text(conn: Connection, table: str, columns: Sequence[str], lines: Iterable[str]) -> None:
    """COPY ``lines`` (each from :func:`text_line`, or made the same way) into ``table``."""
    raw: psycopg.Connection[Any] = conn.connection.driver_connection  # type: ignore[assignment]
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        copy.write("".join(lines))
