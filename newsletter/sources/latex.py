"""TeX in titles, author names and digest lines, turned into the Unicode a reader expects.

arXiv metadata may spell names and titles in TeX (``Jos\\'e``, ``M{\\"o}bius``, ``\\&``,
``$\\alpha$``); pylatexenc knows every accent and symbol macro, which a hand table never would.
Only text that contains TeX is converted: a backslash, a brace or "~--". Plain text, and math
written without macros (``$n<k$``, which readers understand), is left as published but for its
dashes, and a bare ``%`` is kept as text rather than read as the start of a TeX comment.

The dashes: arXiv's titles and abstracts are TeX source even where nothing else shows it, and
"Foundation Models -- Pre-trained", "LLMs--training" and "pages 3--9" mean an en dash ("---" an
em dash). pylatexenc would read them, but it would also read the rest of a plain text as TeX
("R&D" came back "R   D"), so plain text has only its dashes replaced, by the same rule.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from newsletter.sources.plaintext import collapse_spaces

if TYPE_CHECKING:
    from pylatexenc.latex2text import LatexNodes2Text

_BARE_PERCENT = re.compile(r"(?<!\\)%")
# Two or three hyphens between two characters, or spaced on both sides: a command-line flag
# ("the --fast option"), an arrow ("-->", "<--") and a longer rule ("----") are left alone.
_DASHES = re.compile(r"(?<=[^\s\-<!])-{2,3}(?=[^\s\->])|(?<= )-{2,3}(?= )")


@lru_cache(maxsize=1)
def _converter() -> LatexNodes2Text:
    """Imported on first use (30 ms): senders read this module for digest lines, few of which
    hold any TeX."""
    from pylatexenc.latex2text import LatexNodes2Text

    return LatexNodes2Text()


def looks_like_tex(text: str) -> bool:
    """A backslash, a brace, or "~--" (TeX's tie before a dash: "reconstruction~-- that of")."""
    return "\\" in text or "{" in text or "~--" in text


def tex_dashes(text: str) -> str:
    """``--`` -> ``–`` and ``---`` -> ``—``, as TeX sets them."""
    if "--" not in text:
        return text
    return _DASHES.sub(lambda dash: "–" if len(dash.group()) == 2 else "—", text)


def tex_to_unicode(text: str) -> str:
    """``Jos\\'e Garc{\\'\\i}a`` -> ``José García``; text without TeX comes back unchanged
    but for its dashes (``LLMs--training`` -> ``LLMs–training``)."""
    if not looks_like_tex(text):
        return tex_dashes(text)
    try:
        converted = _converter().latex_to_text(_BARE_PERCENT.sub(r"\\%", text))
    except Exception:  # pylatexenc is tolerant; a parser bug must not cost us the paper
        return text
    return collapse_spaces(converted) or text
