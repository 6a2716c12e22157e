"""TeX in titles and author names, turned into the Unicode a reader expects.

arXiv metadata may spell names and titles in TeX (``Jos\\'e``, ``M{\\"o}bius``, ``\\&``,
``$\\alpha$``); pylatexenc knows every accent and symbol macro, which a hand table never would.
Only text that contains TeX is converted: a backslash or a brace. Plain text, and math written
without macros (``$n<k$``, which readers understand), is left exactly as published, and a bare
``%`` is kept as text rather than read as the start of a TeX comment.
"""

from __future__ import annotations

import re
from functools import lru_cache

from pylatexenc.latex2text import LatexNodes2Text

from newsletter.sources.plaintext import collapse_spaces

_BARE_PERCENT = re.compile(r"(?<!\\)%")


@lru_cache(maxsize=1)
def _converter() -> LatexNodes2Text:
    return LatexNodes2Text()


def looks_like_tex(text: str) -> bool:
    return "\\" in text or "{" in text


def tex_to_unicode(text: str) -> str:
    """``Jos\\'e Garc{\\'\\i}a`` -> ``José García``; text without TeX comes back unchanged."""
    if not looks_like_tex(text):
        return text
    try:
        converted = _converter().latex_to_text(_BARE_PERCENT.sub(r"\\%", text))
    except Exception:  # pylatexenc is tolerant; a parser bug must not cost us the paper
        return text
    return collapse_spaces(converted) or text
