"""``newsletter match``: one JSON object on stdout, or one line naming what is wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from newsletter.cli.match import match
from tests.matching.conftest import CRAFTED

app = typer.Typer()
app.command()(match)

TOPICS = {
    "topics": [
        {"id": "speech", "label": "speech recognition", "keywords": ["ASR"], "description": ""},
        {"id": "code", "label": "LLMs for code", "keywords": ["program repair"]},
        {"id": "ice", "label": "sea ice", "keywords": []},
    ],
    "labels": {"speech": ["Robust speech recognition for noisy call-centre audio"]},
}


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    papers = [{"title": p.title, "abstract": p.abstract} for p in CRAFTED]
    papers[0] |= {"authors_count": 3, "published": "Feb 19, 2024", "upvotes": 12}
    papers[1] |= {"published": "Jun 22"}
    papers_file = tmp_path / "papers.json"
    topics_file = tmp_path / "topics.json"
    papers_file.write_text(json.dumps(papers))
    topics_file.write_text(json.dumps(TOPICS))
    return papers_file, topics_file


def run(papers: Path, topics: Path) -> object:
    return CliRunner().invoke(app, ["--papers", str(papers), "--topics", str(topics)])


def test_prints_each_topics_selection_as_one_json_object(files: tuple[Path, Path]) -> None:
    result = CliRunner().invoke(app, ["--papers", str(files[0]), "--topics", str(files[1])])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert list(out) == ["speech", "code", "ice"]
    assert [i["title"] for i in out["speech"]][:1] == [CRAFTED[0].title]
    assert CRAFTED[3].title in [i["title"] for i in out["code"]]
    assert out["ice"] == []
    for items in out.values():
        assert all(set(item) == {"title", "score", "why"} for item in items)
        assert [i["score"] for i in items] == sorted((i["score"] for i in items), reverse=True)
    assert out["code"][0]["why"].startswith("LLMs for code — ")


@pytest.mark.parametrize(
    ("which", "content", "named"),
    [
        ("papers", "{not json", "papers.json: not JSON"),
        ("papers", '{"title": "x"}', "papers.json: must be a JSON list"),
        ("papers", '[{"title": "a", "abstract": "b"}, {"abstract": "c"}]', "paper [1].title"),
        ("papers", '[{"title": "a", "upvotes": "many"}]', "paper [0].upvotes"),
        ("papers", '[{"title": "a", "published": "someday"}]', "paper [0].published"),
        ("topics", '{"topics": [{"id": "t", "label": "x", "keywords": "a"}]}', "[0].keywords"),
        ("topics", '{"topics": [{"label": "x"}]}', "topic [0].id"),
        ("topics", '{"topics": [{"id": "t", "label": ""}]}', "topic [0]: a topic needs"),
        ("topics", "[]", 'topics.json: must be an object with a "topics" list'),
    ],
)
def test_a_bad_file_fails_in_one_line_naming_the_field(
    files: tuple[Path, Path], which: str, content: str, named: str
) -> None:
    target = files[0] if which == "papers" else files[1]
    target.write_text(content)
    result = CliRunner().invoke(app, ["--papers", str(files[0]), "--topics", str(files[1])])
    assert result.exit_code != 0
    assert result.stdout == ""
    message = result.stderr.strip()
    assert "\n" not in message
    assert named in message
    assert "Traceback" not in result.output


def test_a_missing_file_is_named(files: tuple[Path, Path], tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.json"
    result = CliRunner().invoke(app, ["--papers", str(missing), "--topics", str(files[1])])
    assert result.exit_code != 0
    assert "nowhere.json: cannot read file" in result.stderr


def test_liked_and_disliked_papers_steer_a_topic(tmp_path: Path, files: tuple[Path, Path]) -> None:
    images = CRAFTED[2]
    topics = {
        "topics": [
            {
                "id": "speech",
                "label": "speech recognition",
                "keywords": ["audio"],
                "liked": [
                    {
                        "title": f"A study: {images.title}",
                        "abstract": images.abstract,
                        "authors": ["Ann Example"],
                        "age_days": 3,
                    }
                ],
                "disliked": [],
            }
        ]
    }
    topics_file = tmp_path / "steered.json"
    topics_file.write_text(json.dumps(topics))
    result = run(files[0], topics_file)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    out = json.loads(result.stdout)  # type: ignore[attr-defined]
    liked = [i for i in out["speech"] if i["title"] == images.title]
    assert liked and liked[0]["why"].endswith(", which you liked")


@pytest.mark.parametrize(
    ("entry", "named"),
    [
        ({"liked": {"title": "x"}}, "topic [0].liked: must be a list of papers"),
        ({"liked": ["x"]}, "topic [0].liked[0]: must be an object"),
        ({"disliked": [{"abstract": "a"}]}, "topic [0].disliked[0].title: missing or empty"),
        ({"liked": [{"title": "t", "abstract": 3}]}, "topic [0].liked[0].abstract: must be"),
        ({"liked": [{"title": "t", "authors": "A"}]}, "topic [0].liked[0].authors: must be"),
        ({"liked": [{"title": "t", "age_days": -1}]}, "topic [0].liked[0].age_days: must be"),
    ],
)
def test_bad_verdict_entries_are_named_by_field(
    tmp_path: Path, files: tuple[Path, Path], entry: dict[str, object], named: str
) -> None:
    topics_file = tmp_path / "bad.json"
    topics_file.write_text(json.dumps({"topics": [{"id": "t", "label": "speech"} | entry]}))
    result = run(files[0], topics_file)
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert named in result.output  # type: ignore[attr-defined]
