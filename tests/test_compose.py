"""docker-compose.yml cannot run here (no Docker engine), so check what it can get wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer.main
import yaml

from newsletter.cli.app import app
from newsletter.config import ENV_PREFIX, Settings

COMPOSE = Path(__file__).resolve().parent.parent / "docker-compose.yml"


def _services() -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())["services"]
    return {name: s for name, s in services.items() if s.get("image", "").startswith("newsletter")}


def _resolve(words: list[str]) -> Any:
    command: Any = typer.main.get_command(app)
    for word in words:
        if word.startswith("-"):
            break
        assert hasattr(command, "commands"), f"{word!r} follows a command that has none"
        sub = command.commands.get(word)
        assert sub is not None, f"'newsletter {word}' is not a command"
        command = sub
    return command


def test_the_project_services_are_there() -> None:
    assert {"web", "worker"} <= set(_services())


def test_every_service_command_is_a_real_cli_command() -> None:
    for name, service in _services().items():
        program, *words = service["command"]
        assert program == "newsletter", name
        command = _resolve(words)
        options = {o for p in command.params for o in getattr(p, "opts", [])}
        for word in words:
            if word.startswith("--"):
                assert word in options, f"{name}: {word} is not an option of {command.name}"


def test_every_environment_variable_is_a_real_setting() -> None:
    settings = {f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields}
    for name, service in _services().items():
        for variable in service["environment"]:
            assert variable in settings, f"{name}: {variable} is not a setting"
