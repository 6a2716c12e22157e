"""``newsletter ingest`` end to end on a real database (both backends)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from typer.testing import CliRunner

from newsletter.cli.app import app
from newsletter.sources.configured import sample_path

SHARED = Path("/work/shared/data/papers.json")
runner = CliRunner()


def _papers_file() -> Path:
    """The shared listing; the bundled copy of it where /work/shared is not mounted."""
    return SHARED if SHARED.exists() else sample_path()


def test_ingesting_a_file_twice_adds_the_papers_once(
    db_url: str, cli_env: Callable[..., None]
) -> None:
    cli_env(database_url=db_url)
    path = str(_papers_file())
    first = runner.invoke(app, ["ingest", "--source", "file", "--file", path])
    assert first.exit_code == 0, first.output
    assert "ingested: 272 new, 0 updated, 0 unchanged, 0 skipped" in first.stdout
    second = runner.invoke(app, ["ingest", "--source", "file", "--file", path])
    assert second.exit_code == 0, second.output
    assert "ingested: 0 new, 0 updated, 272 unchanged, 0 skipped" in second.stdout


def test_bad_lines_are_reported_and_the_rest_ingested(
    db_url: str, cli_env: Callable[..., None], tmp_path: Path
) -> None:
    cli_env(database_url=db_url)
    path = tmp_path / "papers.jsonl"
    path.write_text(
        "\n".join([json.dumps({"title": "Good One"}), "{oops", json.dumps({"title": "x" * 2000})])
    )
    result = runner.invoke(app, ["ingest", "--file", str(path)])
    assert result.exit_code == 0, result.output
    assert "ingested: 1 new, 0 updated, 0 unchanged, 2 skipped" in result.stdout
    assert "file line 2: not JSON" in result.stderr
    assert "file line 3" in result.stderr and "longer than 1000" in result.stderr


def test_bad_options_fail_in_one_line(
    db_url: str, cli_env: Callable[..., None], tmp_path: Path
) -> None:
    cli_env(database_url=db_url)
    path = tmp_path / "papers.json"
    path.write_text("[]")
    result = runner.invoke(app, ["ingest", "--source", "hf", "--date", "11/06/2024"])
    assert result.exit_code == 1
    assert "--date: must be a YYYY-MM-DD date" in result.stderr
    result = runner.invoke(app, ["ingest", "--source", "hf", "--file", str(path)])
    assert result.exit_code == 1 and "--file goes with --source file" in result.stderr
    result = runner.invoke(app, ["ingest", "--source", "hf", "--category", "cs.CL"])
    assert result.exit_code == 1 and "--category goes with --source arxiv" in result.stderr
    result = runner.invoke(app, ["ingest", "--file", str(path), "--date", "2024-06-11"])
    assert result.exit_code == 1 and "--date goes with --source hf or arxiv" in result.stderr
