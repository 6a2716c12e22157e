"""Subscriber lists as CSV: import (idempotent, line-numbered errors) and lossless export.

The ``topics`` column holds either a JSON list (what export writes, so nothing is lost) or the
short form people type: ``model compression: quantization, distillation | speech``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, insert, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session, selectinload

from newsletter.errors import InvalidInput
from newsletter.preferences import TopicSpec
from newsletter.store.copying import copy_text, text_line
from newsletter.store.models import Frequency, Subscriber, SubscriberStatus, Topic
from newsletter.store.subscribers import new_nonce, normalize_email, topic_specs

COLUMNS = (
    "email",
    "status",
    "frequency",
    "send_hour",
    "timezone",
    "digest_size",
    "always_send",
    "topics",
    "created_at",
)
# Rows validated and written at a time: large enough that a round trip is nothing next to it.
CHUNK = 5000
T = TypeVar("T")


@dataclass
class ImportReport:
    added: int = 0
    unchanged: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Defaults:
    frequency: Frequency
    send_hour: int
    timezone: str
    digest_size: int


def parse_topics(text: str) -> list[TopicSpec]:
    text = text.strip()
    if not text:
        return []
    if text.startswith("["):
        try:
            items: list[dict[str, Any]] = json.loads(text)
            return [
                TopicSpec.build(
                    str(t.get("label", "")),
                    t.get("keywords", []),
                    t.get("authors", []),
                    t.get("excluded", []),
                    str(t.get("description", "")),
                )
                for t in items
            ]
        except (ValueError, AttributeError, TypeError) as exc:
            raise InvalidInput(f"not a JSON list of topics ({exc})", where="topics") from None
    return [TopicSpec.parse(part) for part in text.split("|") if part.strip()]


def _choice(value: str, allowed: type[Frequency] | type[SubscriberStatus], name: str) -> Any:
    try:
        return allowed(value.strip().lower())
    except ValueError:
        options = ", ".join(m.value for m in allowed)
        raise InvalidInput(f"{value!r} is not one of {options}", where=name) from None


def _int(value: str, name: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise InvalidInput(f"{value!r} is not a whole number", where=name) from None
    if not low <= number <= high:
        raise InvalidInput(f"{number} is not between {low} and {high}", where=name)
    return number


def parse_timezone(value: str) -> str:
    try:
        ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"{value!r} is not an IANA timezone", where="timezone") from None
    return value.strip()


@dataclass(frozen=True)
class Row:
    """One validated CSV row: the subscriber's column values and their topics."""

    values: dict[str, Any]
    topics: list[TopicSpec]


def parse_row(row: dict[str, str], defaults: Defaults, now: datetime) -> Row:
    """Validate one CSV row; InvalidInput names the bad field."""
    get = {k: (v or "").strip() for k, v in row.items() if k is not None}
    if not get.get("email"):
        raise InvalidInput("is empty", where="email")
    status = (
        _choice(get["status"], SubscriberStatus, "status")
        if get.get("status")
        else SubscriberStatus.ACTIVE
    )
    created = now
    if get.get("created_at"):
        try:
            created = datetime.fromisoformat(get["created_at"])
        except ValueError:
            raise InvalidInput("is not an ISO date-time", where="created_at") from None
    values = {
        "email": normalize_email(get["email"]),
        "status": status,
        "frequency": _choice(get["frequency"], Frequency, "frequency")
        if get.get("frequency")
        else defaults.frequency,
        "send_hour": _int(get["send_hour"], "send_hour", 0, 23)
        if get.get("send_hour")
        else defaults.send_hour,
        "timezone": parse_timezone(get["timezone"]) if get.get("timezone") else defaults.timezone,
        "digest_size": _int(get["digest_size"], "digest_size", 1, 100)
        if get.get("digest_size")
        else defaults.digest_size,
        "always_send": get.get("always_send", "").lower() in ("1", "true", "yes"),
        "hard_bounces": 0,
        "token_nonce": new_nonce(),
        "origin": "import",
        "created_at": created,
        "confirmed_at": created if status is SubscriberStatus.ACTIVE else None,
    }
    return Row(values, parse_topics(get.get("topics", "")))


def read_rows(handle: TextIO, report: ImportReport) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, row); unknown columns are reported once and ignored."""
    reader = csv.DictReader(handle)
    header = reader.fieldnames or []
    if "email" not in header:
        raise InvalidInput("the header has no 'email' column", where="line 1")
    for name in header:
        if name not in COLUMNS:
            report.problems.append(
                f"line 1: unknown column {name!r} ignored (known: {', '.join(COLUMNS)})"
            )
    for row in reader:
        if None in row:
            report.problems.append(f"line {reader.line_num}: more fields than the header has")
            continue
        yield reader.line_num, row


def import_csv(
    session: Session,
    path: Path,
    defaults: Defaults,
    now: datetime,
    progress: Callable[[int], None] = lambda _n: None,
) -> ImportReport:
    """Add every good row whose address is new; a second import of the same file adds nothing.

    Rows are validated in Python (the line-numbered errors), then written a batch at a time at
    the database's speed: on PostgreSQL, COPY into a temporary table, one ``INSERT ... SELECT
    ... ON CONFLICT (email) DO NOTHING RETURNING`` into ``subscribers`` and a COPY of the new
    subscribers' topics; on SQLite, the same ``ON CONFLICT`` insert as multi-row statements.
    The unique address decides what is new, so two imports at once cannot add anyone twice.
    """
    report = ImportReport()
    conn = session.connection()
    write = _copy_batch if conn.dialect.name == "postgresql" else _insert_batch
    if write is _copy_batch:
        conn.exec_driver_sql(STAGING_TABLE)
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for batch in _batches(read_rows(handle, report), CHUNK):
            fresh = _validate(batch, defaults, now, report)
            ids = write(session.connection(), fresh) if fresh else {}
            report.added += len(ids)
            report.unchanged += len(fresh) - len(ids)
            progress(len(batch))
    return report


def _validate(
    batch: list[tuple[int, dict[str, str]]], defaults: Defaults, now: datetime,
    report: ImportReport,
) -> list[Row]:
    """The batch's good rows, the first of each address; problems are reported by line."""
    fresh: dict[str, Row] = {}
    for line, raw in batch:
        try:
            row = parse_row(raw, defaults, now)
        except InvalidInput as exc:
            report.problems.append(f"line {line}: {exc}")
            continue
        if row.values["email"] in fresh:
            report.unchanged += 1
            continue
        fresh[row.values["email"]] = row
    return list(fresh.values())


SUBSCRIBER_COLUMNS = (
    "email", "status", "frequency", "send_hour", "timezone", "digest_size", "always_send",
    "hard_bounces", "token_nonce", "origin", "created_at", "confirmed_at",
)
TOPIC_COLUMNS = (
    "subscriber_id", "position", "label", "keywords", "authors", "excluded", "description",
)
STAGING = "newsletter_import"
# The columns' types without their constraints or defaults (no id drawn from the sequence);
# lives for the import's transaction only, and is private to its connection.
STAGING_TABLE = (
    f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGING} ON COMMIT DROP AS "
    f"SELECT {', '.join(SUBSCRIBER_COLUMNS)} FROM subscribers WITH NO DATA"
)


def _copy_batch(conn: Connection, rows: list[Row]) -> dict[str, int]:
    """PostgreSQL: the new subscribers' ids by address, their topics written too."""
    conn.exec_driver_sql(f"TRUNCATE {STAGING}")
    lines = (text_line([row.values[column] for column in SUBSCRIBER_COLUMNS]) for row in rows)
    copy_text(conn, STAGING, SUBSCRIBER_COLUMNS, lines)
    listed = ", ".join(SUBSCRIBER_COLUMNS)
    added = conn.exec_driver_sql(
        f"INSERT INTO subscribers ({listed}) SELECT {listed} FROM {STAGING} "
        "ON CONFLICT (email) DO NOTHING RETURNING email, id"
    )
    ids: dict[str, int] = {email: subscriber_id for email, subscriber_id in added}
    topic_lines = (text_line(values) for values in _topic_values(rows, ids))
    copy_text(conn, Topic.__tablename__, TOPIC_COLUMNS, topic_lines)
    return ids


def _insert_batch(conn: Connection, rows: list[Row]) -> dict[str, int]:
    """SQLite: the same, as multi-row ``INSERT ... ON CONFLICT DO NOTHING`` statements."""
    statement = (
        sqlite.insert(Subscriber)
        .on_conflict_do_nothing(index_elements=["email"])
        .returning(Subscriber.email, Subscriber.id)
    )
    added = conn.execute(statement, [row.values for row in rows])
    ids: dict[str, int] = {email: subscriber_id for email, subscriber_id in added}
    topics = [dict(zip(TOPIC_COLUMNS, values, strict=True))
              for values in _topic_values(rows, ids, encode=False)]
    if topics:
        conn.execute(insert(Topic), topics)
    return ids


def _json(terms: list[str]) -> str:
    return json.dumps(terms) if terms else "[]"


def _topic_values(
    rows: list[Row], ids: dict[str, int], *, encode: bool = True
) -> Iterator[tuple[Any, ...]]:
    """One tuple per topic of each newly added subscriber, in TOPIC_COLUMNS order."""
    dump = _json if encode else list
    for row in rows:
        subscriber_id = ids.get(row.values["email"])
        if subscriber_id is None:
            continue
        for position, t in enumerate(row.topics):
            yield (subscriber_id, position, t.label, dump(list(t.keywords)),
                   dump(list(t.authors)), dump(list(t.excluded)), t.description)


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def export_csv(session: Session, path: Path) -> int:
    """Write every subscriber, topics as JSON, so that importing the file back changes nothing."""
    count = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        query = select(Subscriber).options(selectinload(Subscriber.topics)).order_by(Subscriber.id)
        for subscriber in session.scalars(query.execution_options(yield_per=CHUNK)):
            writer.writerow(_export_row(subscriber))
            count += 1
    return count


def _export_row(s: Subscriber) -> dict[str, str]:
    topics = [
        {
            "label": t.label,
            "keywords": list(t.keywords),
            "authors": list(t.authors),
            "excluded": list(t.excluded),
            **({"description": t.description} if t.description else {}),
        }
        for t in topic_specs(s)
    ]
    return {
        "email": s.email,
        "status": s.status.value,
        "frequency": s.frequency.value,
        "send_hour": str(s.send_hour),
        "timezone": s.timezone,
        "digest_size": str(s.digest_size),
        "always_send": "true" if s.always_send else "false",
        "topics": json.dumps(topics, ensure_ascii=False) if topics else "",
        "created_at": s.created_at.isoformat(),
    }
