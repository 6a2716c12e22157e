"""TeX in titles, author names and digest lines, turned into the Unicode a reader expects.

arXiv metadata may spell names and titles in TeX (``Jos\\'e``, ``M{\\"o}bius``, ``\\&``,
``$\\alpha$``); pylatexenc knows every accent and symbol macro, which a hand table never would.
Only text that contains TeX is converted: a backslash, a brace or "~--". Plain text, and math
written without macros (``$n<k$``, which readers understand), is left exactly as published, and
a bare ``%`` is kept as text rather than read as the start of a TeX comment.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from newsletter.sources.plaintext import collapse_spaces

if TYPE_CHECKING:
    from pylatexenc.latex2text import LatexNodes2Text

_BARE_PERCENT = re.compile(r"(?<!\\)%")


@lru_cache(maxsize=1)
def _converter() -> LatexNodes2Text:
    """Imported on first use (30 ms): senders read this module for digest lines, few of which
    hold any TeX."""
    from pylatexenc.latex2text import LatexNodes2Text

    return LatexNodes2Text()


def looks_like_tex(text: str) -> bool:
    """A backslash, a brace, or "~--" (TeX's tie before a dash: "reconstruction~-- that of")."""
    return "\\" in text or "{" in text or "~--" in text


def tex_to_unicode(text: str) -> str:
    """``Jos\\'e Garc{\\'\\i}a`` -> ``José García``; text without TeX comes back unchanged."""
    if not looks_like_tex(text):
        return text
    try:
        converted = _converter().latex_to_text(_BARE_PERCENT.sub(r"\\%", text))
    except Exception:  # pylatexenc is tolerant; a parser bug must not cost us the paper
        return text
    return collapse_spaces(converted) or text
