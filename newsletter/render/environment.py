"""Where email templates live and the Jinja environments that read them.

Templates ship in the repository's ``templates/email`` and, in an installed wheel, in
``newsletter/_templates/email`` (hatch force-includes the folder). HTML and text get separate
environments because only HTML may be autoescaped: escaping a text part would show ``&amp;``.
``StrictUndefined`` turns a missing context key into an error in tests instead of a blank line
in thousands of inboxes.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path

import css_inline
from jinja2 import Environment, FileSystemLoader, StrictUndefined

import newsletter


def template_dir() -> Path:
    """The checkout's folder when running from source, else the copy inside the wheel."""
    package = Path(newsletter.__file__).resolve().parent
    for candidate in (package.parent / "templates" / "email", package / "_templates" / "email"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("email templates not found (templates/email or newsletter/_templates)")


def short_day(day: date, reference: date) -> str:
    """"Jun 11" in the issue's year; "Jun 11, 2024" otherwise, so an old paper shows its age."""
    label = f"{day:%b} {day.day}"
    return label if day.year == reference.year else f"{label}, {day.year}"


def _with_filters(environment: Environment) -> Environment:
    environment.filters["short_day"] = short_day
    return environment


@lru_cache(maxsize=1)
def html_environment() -> Environment:
    return _with_filters(Environment(
        loader=FileSystemLoader(template_dir()),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    ))


@lru_cache(maxsize=1)
def text_environment() -> Environment:
    return _with_filters(Environment(
        loader=FileSystemLoader(template_dir()),
        autoescape=False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    ))


@lru_cache(maxsize=1)
def inliner() -> css_inline.CSSInliner:
    """Inline the plain rules; keep @media (dark mode, phones) in a <style> block.

    Remote stylesheets are never fetched: rendering must not touch the network.
    """
    return css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)
