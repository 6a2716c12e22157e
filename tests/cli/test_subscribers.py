"""``newsletter subscribers``: every command, its bad input, and idempotent CSV import."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsletter.cli.app import app
from newsletter.store.database import Database
from newsletter.store.models import SubscriberStatus
from newsletter.store.subscribers import find_subscriber, list_subscribers

runner = CliRunner()
Run = Callable[..., "object"]


@pytest.fixture
def cli(db_url: str, cli_env: Callable[..., None]) -> Callable[..., object]:
    cli_env(database_url=db_url)

    def run(*args: str) -> object:
        return runner.invoke(app, list(args), catch_exceptions=False)

    return run


def test_help_shows_the_command_groups() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "subscribers" in result.output
    assert "db" in result.output


def test_add_then_list(cli: Callable[..., object], db: Database) -> None:
    result = cli(
        "subscribers",
        "add",
        "Ada@Example.ORG",
        "--topic",
        "model compression",
        "--keyword",
        "quantization",
        "--keyword",
        "pruning",
        "--author",
        "Song Han",
    )
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    with db.session() as session:
        subscriber = find_subscriber(session, "ada@example.org")
        assert subscriber is not None
        assert subscriber.status is SubscriberStatus.ACTIVE
        assert subscriber.confirmed_at is not None
        [topic] = subscriber.topics
        assert (topic.label, topic.keywords, topic.authors) == (
            "model compression",
            ["quantization", "pruning"],
            ["Song Han"],
        )
    listed = cli("subscribers", "list")
    assert "ada@example.org" in listed.output  # type: ignore[attr-defined]


def test_add_with_inline_keywords_for_several_topics(
    cli: Callable[..., object], db: Database
) -> None:
    result = cli("subscribers", "add", "b@example.org", "-t", "speech: ASR, whisper", "-t", "RL")
    assert result.exit_code == 0
    with db.session() as session:
        subscriber = find_subscriber(session, "b@example.org")
        assert subscriber is not None
        assert [(t.label, t.keywords) for t in subscriber.topics] == [
            ("speech", ["ASR", "whisper"]),
            ("RL", []),
        ]


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["not-an-address", "-t", "x"], "An email address must have an @-sign"),
        (["a@", "-t", "x"], "There must be something after the @-sign"),
        (["a@example.org"], "--topic"),
        (["a@example.org", "-t", "x", "-t", "y", "-k", "z"], "inline"),
        (["a@example.org", "-t", "x", "--timezone", "Moon/Base"], "IANA"),
    ],
)
def test_add_refuses_bad_input_in_one_line(
    cli: Callable[..., object], args: list[str], reason: str
) -> None:
    result = cli("subscribers", "add", *args)
    assert result.exit_code != 0  # type: ignore[attr-defined]
    assert reason in result.output  # type: ignore[attr-defined]


def test_add_twice_is_refused(cli: Callable[..., object]) -> None:
    assert cli("subscribers", "add", "c@example.org", "-t", "x").exit_code == 0  # type: ignore[attr-defined]
    again = cli("subscribers", "add", "C@example.org", "-t", "x")
    assert again.exit_code != 0  # type: ignore[attr-defined]
    assert "already a subscriber" in again.output  # type: ignore[attr-defined]


def test_remove(cli: Callable[..., object], db: Database) -> None:
    cli("subscribers", "add", "d@example.org", "-t", "x")
    assert cli("subscribers", "remove", "d@example.org").exit_code == 0  # type: ignore[attr-defined]
    with db.session() as session:
        assert find_subscriber(session, "d@example.org") is None
    missing = cli("subscribers", "remove", "d@example.org")
    assert missing.exit_code != 0  # type: ignore[attr-defined]
    assert "no subscriber" in missing.output  # type: ignore[attr-defined]


def _write_csv(path: Path, rows: list[dict[str, str]], header: list[str]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_import_reports_bad_lines_and_imports_the_rest(
    cli: Callable[..., object], db: Database, tmp_path: Path
) -> None:
    rows = [
        {"email": "e1@example.org", "topics": "speech: ASR", "frequency": "weekly"},
        {"email": "broken@", "topics": "x", "frequency": ""},
        {"email": "e2@example.org", "topics": "", "frequency": "hourly"},
        {"email": "E3@Example.org", "topics": "vision | RL", "frequency": ""},
    ]
    path = _write_csv(tmp_path / "in.csv", rows, ["email", "topics", "frequency"])
    result = cli("subscribers", "import", str(path))
    assert result.exit_code == 1  # type: ignore[attr-defined]
    out = result.output  # type: ignore[attr-defined]
    assert "line 3: email:" in out
    assert "line 4: frequency:" in out
    assert "added 2" in out
    with db.session() as session:
        emails = {s.email for s in list_subscribers(session)}
    assert emails == {"e1@example.org", "e3@example.org"}


def test_import_names_an_unknown_column(cli: Callable[..., object], tmp_path: Path) -> None:
    path = _write_csv(
        tmp_path / "in.csv", [{"email": "f@example.org", "colour": "red"}], ["email", "colour"]
    )
    result = cli("subscribers", "import", str(path))
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert "line 1: unknown column 'colour'" in result.output  # type: ignore[attr-defined]
    assert "added 1" in result.output  # type: ignore[attr-defined]


def test_import_twice_changes_nothing_and_export_round_trips(
    cli: Callable[..., object], db: Database, tmp_path: Path
) -> None:
    rows = [{"email": f"user{i}@example.org", "topics": f"topic {i}: kw{i}"} for i in range(1200)]
    path = _write_csv(tmp_path / "in.csv", rows, ["email", "topics"])
    first = cli("subscribers", "import", str(path))
    assert first.exit_code == 0, first.output  # type: ignore[attr-defined]
    assert "added 1200, unchanged 0" in first.output  # type: ignore[attr-defined]
    second = cli("subscribers", "import", str(path))
    assert "added 0, unchanged 1200" in second.output  # type: ignore[attr-defined]

    exported = tmp_path / "out.csv"
    assert cli("subscribers", "export", str(exported)).exit_code == 0  # type: ignore[attr-defined]
    with exported.open() as handle:
        out_rows = list(csv.DictReader(handle))
    assert len(out_rows) == 1200
    assert '"keywords": ["kw7"]' in out_rows[7]["topics"]
    again = cli("subscribers", "import", str(exported))
    assert "added 0, unchanged 1200, problems 0" in again.output  # type: ignore[attr-defined]


def test_export_then_import_into_an_empty_database_keeps_everything(
    cli: Callable[..., object], db: Database, tmp_path: Path
) -> None:
    cli(
        "subscribers",
        "add",
        "g@example.org",
        "-t",
        "speech: ASR",
        "--author",
        "A. Person",
        "--exclude",
        "music",
        "--frequency",
        "weekly",
        "--send-hour",
        "18",
        "--timezone",
        "Europe/Paris",
    )
    exported = tmp_path / "out.csv"
    cli("subscribers", "export", str(exported))
    cli("subscribers", "remove", "g@example.org")
    assert cli("subscribers", "import", str(exported)).exit_code == 0  # type: ignore[attr-defined]
    with db.session() as session:
        s = find_subscriber(session, "g@example.org")
        assert s is not None
        assert (s.frequency.value, s.send_hour, s.timezone) == ("weekly", 18, "Europe/Paris")
        [topic] = s.topics
        assert (topic.keywords, topic.authors, topic.excluded) == (
            ["ASR"],
            ["A. Person"],
            ["music"],
        )
