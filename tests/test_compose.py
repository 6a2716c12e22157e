"""docker-compose.yml cannot run here (no Docker engine), so check what it can get wrong."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml

from newsletter import __version__
from newsletter.cli.app import app
from newsletter.config import ENV_PREFIX, Settings, load_settings
from newsletter.errors import ConfigurationError

COMPOSE = Path(__file__).resolve().parent.parent / "docker-compose.yml"
DOCKERFILE = COMPOSE.parent / "Dockerfile"


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


# --- starting cleanly ---------------------------------------------------------------------------
def _all_services() -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())["services"]
    return services


def test_migrations_run_once_before_any_process_of_ours() -> None:
    """A worker started on an empty database exits ("no such table") and crash-loops: the
    one-shot ``migrate`` must have finished before ``web`` or ``worker`` start."""
    services = _services()
    migrate = services["migrate"]
    assert migrate["command"] == ["newsletter", "db", "upgrade"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name, service in services.items():
        if name == "migrate":
            continue
        needs = service["depends_on"]
        assert needs["migrate"]["condition"] == "service_completed_successfully", name
        assert needs["postgres"]["condition"] == "service_healthy", name


def test_every_long_running_service_has_a_healthcheck() -> None:
    for name, service in _all_services().items():
        if service.get("restart") == "no":
            continue
        test = service.get("healthcheck", {}).get("test")
        assert test and test[0] in ("CMD", "CMD-SHELL"), f"{name} has no healthcheck"


def test_the_web_healthcheck_asks_a_real_route() -> None:
    from newsletter.web.routes import health

    command = " ".join(_all_services()["web"]["healthcheck"]["test"])
    path = re.search(r"http://127\.0\.0\.1:8000(/\w*)", command)
    assert path is not None
    assert path.group(1) in {getattr(r, "path", None) for r in health.router.routes}


def test_every_image_is_pinned() -> None:
    for name, service in _all_services().items():
        image = service["image"]
        _, _, tag = image.rpartition(":")
        assert tag and tag != "latest" and re.search(r"\d", tag), f"{name}: {image} is not pinned"
    assert _services()["web"]["image"] == f"newsletter:{__version__}"
    base = re.search(r"^FROM (\S+)", DOCKERFILE.read_text(), re.M)
    assert base is not None and re.fullmatch(r"python:3\.11\.\d+-slim-\w+", base.group(1))


def _interpolate(value: str, environment: dict[str, str]) -> str:
    """Compose's ``${VAR}`` and ``${VAR:-default}``; a required ``${VAR:?}`` fails the whole
    command, ``down`` included, which is what this file must never contain."""

    def one(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(3) or ""
        assert match.group(2) in (None, ":-", "-"), f"${{{name}...}} would fail without {name}"
        return environment.get(name) or default

    return re.sub(r"\$\{(\w+)(:?[-?])?([^}]*)\}", one, value)


def test_an_unset_secret_breaks_nothing_but_the_start() -> None:
    """With no secret in the environment, compose can still read the file (so ``down`` works);
    the service itself refuses to start in production, naming the variable."""
    assert ":?" not in COMPOSE.read_text()
    values = {
        name: _interpolate(str(value), {})
        for name, value in _services()["web"]["environment"].items()
    }
    assert values["NEWSLETTER_SECRET_KEY"] == ""
    with pytest.raises(ConfigurationError, match="NEWSLETTER_SECRET_KEY must be set"):
        load_settings(**{k.removeprefix(ENV_PREFIX).lower(): v for k, v in values.items() if v})
    with pytest.raises(ConfigurationError, match="NEWSLETTER_SECRET_KEY must be set"):
        load_settings(**{k.removeprefix(ENV_PREFIX).lower(): v for k, v in values.items()})
    secret = {"NEWSLETTER_SECRET_KEY": "s" * 40}
    configured = {
        name.removeprefix(ENV_PREFIX).lower(): _interpolate(str(value), secret)
        for name, value in _services()["web"]["environment"].items()
    }
    assert load_settings(**configured).environment == "production"
