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

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, selectinload

from newsletter.errors import InvalidInput
from newsletter.preferences import TopicSpec
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
CHUNK = 500
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
    """Add every good row whose address is new; a second import of the same file adds nothing."""
    report = ImportReport()
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for batch in _batches(read_rows(handle, report), CHUNK):
            _import_batch(session, batch, defaults, now, report)
            progress(len(batch))
    return report


def _import_batch(
    session: Session,
    batch: list[tuple[int, dict[str, str]]],
    defaults: Defaults,
    now: datetime,
    report: ImportReport,
) -> None:
    """Validate a batch, then insert only the new addresses with two bulk statements."""
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
    existing = set(session.scalars(select(Subscriber.email).where(Subscriber.email.in_(fresh))))
    report.unchanged += len(existing)
    new = [row for email, row in fresh.items() if email not in existing]
    if not new:
        return
    ids = session.scalars(
        insert(Subscriber).returning(Subscriber.id, sort_by_parameter_order=True),
        [row.values for row in new],
    ).all()
    topics = [
        {
            "subscriber_id": sid,
            "position": i,
            "label": t.label,
            "keywords": list(t.keywords),
            "authors": list(t.authors),
            "excluded": list(t.excluded),
            "description": t.description,
        }
        for sid, row in zip(ids, new, strict=True)
        for i, t in enumerate(row.topics)
    ]
    if topics:
        session.execute(insert(Topic), topics)
    report.added += len(new)


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
