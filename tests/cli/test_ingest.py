"""``newsletter ingest`` end to end on a real database (both backends)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from typer.testing import CliRunner

from newsletter.cli.app import app
from newsletter.sources.configured import sample_path
from tests.sources.conftest import FIXTURES
from tests.sources.http_server import serving

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


RSS_ERROR = (FIXTURES / "arxiv_rss_error_bad_archive.xml").read_bytes()
RSS_GOOD = (FIXTURES / "arxiv_rss_cs_LG_affiliations.xml").read_bytes()


def test_an_error_feed_fails_the_command_with_the_feeds_reason(
    db_url: str, cli_env: Callable[..., None]
) -> None:
    """arXiv answers an unknown archive with an error feed (HTTP 400, or 200 from a cache):
    the run reports it and exits non-zero; good feeds of the same run are still stored."""
    answers = {
        "/rss/xx.CL": (400, "application/rss+xml", RSS_ERROR),
        "/rss/yy.CL": (200, "application/rss+xml", RSS_ERROR),
        "/rss/cs.LG": (200, "application/rss+xml", RSS_GOOD),
    }
    with serving(answers) as base:
        cli_env(database_url=db_url, arxiv_rss_url=f"{base}/rss")
        for category in ("xx.CL", "yy.CL"):
            result = runner.invoke(app, ["ingest", "--source", "arxiv", "--category", category])
            assert result.exit_code == 1, result.output
            assert "arXiv refused the feed: Bad archive 'xx'" in result.stdout
            assert "1 source(s) could not be read" in result.stderr
        good = runner.invoke(app, ["ingest", "--source", "arxiv", "--category", "cs.LG"])
    assert good.exit_code == 0, good.output
    assert "2 new, 0 updated, 0 unchanged, 0 skipped, 2 replaced (0 of ours revised)" in good.stdout


def test_a_misshapen_category_is_refused_before_any_request(
    db_url: str, cli_env: Callable[..., None]
) -> None:
    cli_env(database_url=db_url, arxiv_rss_url="http://127.0.0.1:9/rss")
    result = runner.invoke(app, ["ingest", "--source", "arxiv", "--category", "cs CL"])
    assert result.exit_code == 1
    assert "--category: 'cs CL' is not an arXiv category name" in result.stderr
