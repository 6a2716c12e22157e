"""Turning a listing's title or abstract into plain text.

Listings mix plain text, HTML (``<p>``, ``<i>``, entities) and LaTeX (``$n<k$``). We store plain
text and let the renderer escape it. Only *known* HTML elements are removed: anything else that
looks like a tag (``<k$ and $m>`` in an abstract) is put back as written, because a general HTML
sanitizer (feedparser's, bleach's) silently eats such math.
"""

from __future__ import annotations

from html.parser import HTMLParser

# fmt: off
HTML_ELEMENTS = frozenset(
    {
        "a", "abbr", "acronym", "address", "article", "aside", "b", "bdi", "bdo", "big",
        "blockquote", "body", "br", "caption", "center", "cite", "code", "col", "colgroup", "dd",
        "del", "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "font",
        "footer", "h1", "h2", "h3", "h4", "h5", "h6", "head", "header", "hr", "html", "i", "img",
        "ins", "kbd", "label", "li", "main", "mark", "math", "nav", "nobr", "ol", "p", "pre", "q",
        "s", "samp", "section", "small", "span", "strike", "strong", "sub", "summary", "sup",
        "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr", "tt", "u", "ul", "var",
        "wbr",
    }
)
# Their content is never text for a reader.
_DROPPED = frozenset({"script", "style", "template", "iframe", "object", "noscript", "svg"})
# Elements that separate words when rendered; removing them must leave a space.
_BREAKING = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption",
        "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main",
        "nav", "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul",
    }
)
# fmt: on


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._dropping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROPPED:
            self._dropping += 1
        elif tag in _BREAKING:
            self.parts.append(" ")
        elif tag not in HTML_ELEMENTS and not self._dropping:
            self.parts.append(self.get_starttag_text() or "")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BREAKING:
            self.parts.append(" ")
        elif tag not in HTML_ELEMENTS and tag not in _DROPPED and not self._dropping:
            self.parts.append(self.get_starttag_text() or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED:
            self._dropping = max(0, self._dropping - 1)
        elif tag in _BREAKING:
            self.parts.append(" ")
        elif tag not in HTML_ELEMENTS and not self._dropping:
            self.parts.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if not self._dropping:
            self.parts.append(data)


def collapse_spaces(text: str) -> str:
    """Feeds hard-wrap abstracts at 80 columns; stored text is one line per field."""
    return " ".join(text.split())


def plain_text(text: str) -> str:
    """HTML-free, entity-decoded, single-spaced text (the cheap path when there is no markup)."""
    if "<" not in text and "&" not in text:
        return collapse_spaces(text)
    extractor = _TextExtractor()
    extractor.feed(text)
    extractor.close()
    return collapse_spaces("".join(extractor.parts))
