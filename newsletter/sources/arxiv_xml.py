"""Reading arXiv's XML (the query API's Atom, the announcement RSS) through defusedxml.

Not feedparser: it runs abstracts through an HTML sanitizer that deletes LaTeX such as
``$n<k$ and $m>j$`` as if it were a tag. ElementTree hands us the text exactly as published, and
``plaintext`` removes only real HTML. defusedxml refuses every entity declaration (the
"billion laughs" bomb, external entities that would read local files), whatever limits the
installed expat has: arXiv's feeds never declare any.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from newsletter.errors import SourceError

NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "arxiv": "http://arxiv.org/schemas/atom",
    "opensearch": "http://a9.com/-/spec/opensearch/1.1/",
    "dc": "http://purl.org/dc/elements/1.1/",
}
# arXiv categories (cs.CL, hep-ex, math.AP); the API also lists ACM/MSC codes such as "I.2.6".
_CATEGORY = re.compile(r"[a-z][a-z\-]*(\.[A-Za-z\-]{2,})?")
_AND = re.compile(r"\s+and\s+|\s*;\s*")
_SNIPPET = 120


def parse_document(content: bytes, url: str) -> ET.Element:
    """The root element; what is not XML is reported with its first words (arXiv answers a
    rate limit with the plain text "Rate exceeded.")."""
    try:
        root: ET.Element = fromstring(content, forbid_dtd=False)
    except DefusedXmlException as exc:
        raise SourceError(f"{url}: refused XML that declares entities ({exc})") from None
    except ET.ParseError as exc:
        snippet = " ".join(content[:_SNIPPET].decode("utf-8", "replace").split())
        raise SourceError(f"{url}: not well-formed XML ({exc}): {snippet!r}") from None
    return root


def text_of(element: ET.Element, path: str) -> str | None:
    found = element.find(path, NS)
    return found.text if found is not None and found.text is not None else None


def arxiv_categories(terms: list[str | None]) -> list[str]:
    seen: list[str] = []
    for term in terms:
        if term and _CATEGORY.fullmatch(term.strip()) and term.strip() not in seen:
            seen.append(term.strip())
    return seen


def _outside_parentheses(text: str) -> list[str]:
    """Comma-separated parts, with every parenthesised group (an affiliation) dropped."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif depth:
            continue
        elif char == ",":
            parts.append("".join(current))
            current.clear()
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def split_creators(text: str | None) -> list[str]:
    """``dc:creator`` is one string of people, each perhaps followed by affiliations in
    parentheses that contain commas of their own: ``Jadelynn Dao (Andrew and Peggy Cherng
    Department of Medical Engineering, Caltech), Yisong Yue (Caltech)``; older feeds also join
    the last name with "and". One pass over the text, so a long list costs linear time."""
    if not text:
        return []
    names: list[str] = []
    for part in _outside_parentheses(text):
        names.extend(" ".join(name.split()) for name in _AND.split(part) if name.strip())
    return names
