"""arXiv category names: the shape is checked here, whether arXiv knows one is asked of arXiv.

A name is an archive (``math``, ``hep-ex``) optionally followed by one subject class
(``cs.CL``, ``math.AP``, ``astro-ph.GA``). A misspelt but well-shaped name (``cs.XX``) is only
known to be wrong once arXiv says so: the RSS answers an error feed naming it, and the query API
finds no paper in it at all (see ``arxiv_api``). We keep no copy of arXiv's taxonomy, which
changes without telling us.
"""

from __future__ import annotations

import re

_NAME = re.compile(r"[a-z][a-z\-]*(\.[A-Za-z][A-Za-z\-]*)?")


def check_category(name: str) -> str:
    """The name trimmed; ValueError (naming it) when it cannot be an arXiv category."""
    text = name.strip()
    if not _NAME.fullmatch(text):
        raise ValueError(
            f"{name!r} is not an arXiv category name (an archive such as math, "
            "or archive.class such as cs.CL)"
        )
    return text
