"""CSV import in batches (COPY on PostgreSQL): line-numbered errors, duplicates, idempotence."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from newsletter.store import roster
from newsletter.store.database import Database
from newsletter.store.models import Frequency, Subscriber, Topic
from newsletter.store.roster import Defaults, import_csv

NOW = datetime(2024, 5, 1, 7, tzinfo=UTC)
DEFAULTS = Defaults(Frequency.DAILY, 7, "UTC", 10)


def _write(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "topics", "frequency", "timezone"])
        writer.writerows(rows)


def test_batched_import_reports_by_line_skips_duplicates_and_is_idempotent(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(roster, "CHUNK", 7)  # many batches from a small file
    rows = [[f"reader{n}@example.org", f"topic {n}: kw{n} | second\ttab", "daily", "UTC"]
            for n in range(40)]
    rows[3] = ["not an address", "x", "daily", "UTC"]  # line 5
    rows[20] = ["reader21@example.org", "again", "weekly", "UTC"]  # a later duplicate, line 22
    rows[21][0] = "READER21@example.org"  # the same address, in the next batch: unchanged
    rows[30] = ["reader30@example.org", "x", "hourly", "UTC"]  # line 32
    rows[35] = ["reader35@example.org", "back\\slash: new\nline", "weekly", "Europe/Paris"]
    path = tmp_path / "people.csv"
    _write(path, rows)

    with db.session() as session:
        report = import_csv(session, path, DEFAULTS, NOW)
    assert report.added == 37
    assert report.unchanged == 1
    assert [p.split(":")[0] for p in report.problems] == ["line 5", "line 32"]
    assert "frequency" in report.problems[1]

    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Subscriber)) == 37
        kept = session.scalars(
            select(Subscriber).where(Subscriber.email == "reader21@example.org")
        ).one()
        assert kept.frequency is Frequency.WEEKLY  # row 21 (line 22) came first
        odd = session.scalars(
            select(Subscriber).where(Subscriber.email == "reader35@example.org")
        ).one()
        assert [(t.label, t.keywords) for t in odd.topics] == [("back\\slash", ["new line"])]
        assert odd.timezone == "Europe/Paris"
        first = session.scalars(
            select(Subscriber).where(Subscriber.email == "reader0@example.org")
        ).one()
        assert [(t.position, t.label, t.keywords) for t in first.topics] == [
            (0, "topic 0", ["kw0"]), (1, "second tab", []),
        ]
        topics = session.scalar(select(func.count()).select_from(Topic))

    with db.session() as session:
        again = import_csv(session, path, DEFAULTS, NOW)
    assert (again.added, again.unchanged, len(again.problems)) == (0, 38, 2)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Subscriber)) == 37
        assert session.scalar(select(func.count()).select_from(Topic)) == topics
