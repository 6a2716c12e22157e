"""What `make venv` installs: every dependency pinned in constraints.txt, within pyproject's range.

A requirement missing from the file would float to whatever PyPI released last (as anyio 4.16
did, silently dropping sniffio from under httpcore); a pin outside the declared range would make
pip refuse to install on a fresh machine.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def pins() -> dict[str, str]:
    found = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not name==version"
            found[canonicalize_name(name)] = version.strip()
    return found


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    named = (*project["dependencies"], *extras["test"], *extras["semantic"])
    return [Requirement(r) for r in named]


def test_every_dependency_is_pinned_within_its_declared_range() -> None:
    pinned = pins()
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{requirement.name} is not in constraints.txt (run make lock)"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"constraints.txt pins {requirement.name}=={pinned[name]}, outside {requirement}"
        )


def test_the_makefile_installs_with_the_constraints() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "-c constraints.txt -e '.[test,semantic]'" in makefile
    assert "$(STAMP): pyproject.toml constraints.txt" in makefile  # a new pin reinstalls
