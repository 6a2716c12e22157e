"""``newsletter edition build | send | status | preview | test-send``, end to end."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from newsletter.cli.app import app
from newsletter.store.database import Database
from newsletter.store.scratch import scratch_database
from tests.conftest import PG_ENV, PG_SKIP
from tests.delivery.helpers import add_papers, add_subscriber
from tests.smtp_server import SmtpServer

runner = CliRunner()
Cli = Callable[..., Result]


@pytest.fixture
def cli(db_url: str, cli_env: Callable[..., None], smtp_server: SmtpServer) -> Cli:
    cli_env(database_url=db_url, smtp_url=smtp_server.url, secret_key="s" * 40,
            smtp_timeout="2", base_url="https://papers.example.org")

    def run(*args: str) -> Result:
        return runner.invoke(app, list(args))

    return run


def fresh(db: Database) -> None:
    add_papers(db, now=datetime.now(UTC))
    add_subscriber(db, "speech@example.org", ["speech recognition"])
    add_subscriber(db, "graphs@example.org", ["graph neural networks"])
    add_subscriber(db, "none@example.org", ["quantum chemistry"])


def test_build_send_status_preview(
    cli: Cli, db: Database, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    fresh(db)
    built = cli("edition", "build")
    assert built.exit_code == 0, built.output
    assert "3 due, 2 queued" in built.output
    again = cli("edition", "build")
    assert "0 due, 0 queued" in again.output

    dry = cli("send", "--dry-run")
    assert dry.exit_code == 0 and "2 message(s) would be sent" in dry.output
    assert smtp_server.received == []

    sent = cli("send")
    assert sent.exit_code == 0, sent.output
    assert "sent 2, retrying 0, failed 0, ambiguous 0" in sent.output
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == [
        "graphs@example.org", "speech@example.org"]
    assert "sent 0" in cli("send").output

    status = runner.invoke(app, ["status"], env={"COLUMNS": "200"})
    assert status.exit_code == 0
    header = next(line for line in status.output.splitlines() if "ambiguous" in line)
    row = next(line for line in status.output.splitlines() if " daily " in line)
    cells: dict[str, Any] = dict(zip(header.split(), row.split(), strict=True))
    assert (cells["due"], cells["sent"], cells["skipped"], cells["pending"]) == ("3", "2", "1",
                                                                                "0")

    shown = cli("preview", "--email", "speech@example.org", "--out", str(tmp_path / "p"))
    assert shown.exit_code == 0, shown.output
    html = Path(shown.output.split()[0])
    assert html.exists() and "speech" in html.read_text().lower()
    assert "https://papers.example.org/unsubscribe/" in html.read_text()
    assert Path(shown.output.split()[1]).read_text().startswith("Subject: ")


def test_test_send_reaches_the_relay(cli: Cli, smtp_server: SmtpServer, db: Database) -> None:
    result = cli("test-send", "me@example.org")
    assert result.exit_code == 0, result.output
    [message] = smtp_server.messages_to("me@example.org")
    assert message.get_content_type() == "multipart/alternative"


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("edition", "build", "--date", "2024-13-40"), "is not a date"),
        (("edition", "build", "--frequency", "monthly"), "monthly"),
        (("send", "--edition", "999"), "no edition with id 999"),
        (("preview", "--email", "nobody@example.org"), "no subscriber"),
        (("preview", "--email", "none@example.org"), "nothing relevant"),
        (("test-send", "not an address"), "address: An email address must have an @-sign"),
    ],
)
def test_bad_input_exits_non_zero_with_one_line(
    cli: Cli, db: Database, args: tuple[str, ...], reason: str
) -> None:
    fresh(db)
    result = cli(*args)
    assert result.exit_code != 0
    assert reason in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_command_on_a_database_never_migrated_says_how_to_fix_it(
    backend: str, cli_env: Callable[..., None], tmp_path: Path
) -> None:
    """`newsletter worker` started before `newsletter db upgrade` (a compose file without the
    ordering): one line that names the fix, exit 1, no traceback."""
    admin = os.environ.get(PG_ENV) if backend == "postgresql" else None
    if backend == "postgresql" and not admin:
        pytest.skip(PG_SKIP)
    with scratch_database(admin, tmp_path, "unmigrated", migrated=False) as url:
        cli_env(database_url=url, secret_key="s" * 40, smtp_url="smtp://127.0.0.1:9?tls=none")
        for command in (["worker"], ["status"], ["subscribers", "list"]):
            result = runner.invoke(app, command)
            assert result.exit_code == 1, result.output
            assert "run `newsletter db upgrade`" in result.output, result.output
            assert "Traceback" not in result.output
