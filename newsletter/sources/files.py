"""Papers from a file: a JSON list, or JSON Lines (one object per line, read as a stream).

The shared listing format has ``title``, ``abstract``, optional ``authors_count``, ``published``
("Feb 19, 2024", or "Jun 22" for the latest such day) and ``upvotes``, and no ids: such papers are
keyed by their normalized title. Richer files may also give ``arxiv_id`` or ``id``, ``authors``,
``categories``, ``featured_on``, ``announced_on``, links and counts. A paper whose file gives no
``announced_on`` is news when it is first loaded (its ``published`` is a display date only).
JSON Lines is read line by line so memory does not grow with the file; a JSON list is small by
nature and is read whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from newsletter.errors import BadItem, SourceError
from newsletter.sources.dates import parse_day, parse_listing_date
from newsletter.sources.interface import Item
from newsletter.sources.records import ListedPaper, Skipped, make_record, normalize_arxiv_id

_LINKS = ("url", "pdf_url", "github_url", "project_url", "thumbnail_url")


def parse_paper(raw: Any, source: str, now: datetime) -> ListedPaper:
    if not isinstance(raw, dict):
        raise BadItem("must be a JSON object")
    given = raw.get("arxiv_id") or raw.get("id")
    if isinstance(given, bool) or (given is not None and not isinstance(given, str | int)):
        raise BadItem("id must be a string")
    own_id = str(given) if given is not None else None
    arxiv_id = own_id if own_id and normalize_arxiv_id(own_id) else None
    published = raw.get("published", raw.get("published_at"))
    return make_record(
        source,
        own_id=own_id,
        arxiv_id=arxiv_id,
        title=raw.get("title"),
        abstract=raw.get("abstract", raw.get("summary")),
        authors=raw.get("authors"),
        categories=raw.get("categories"),
        published_at=parse_listing_date(published, "published", now=now),
        featured_on=parse_day(raw.get("featured_on"), "featured_on"),
        announced_on=parse_day(raw.get("announced_on"), "announced_on"),
        upvotes=raw.get("upvotes"),
        comments=raw.get("comments"),
        github_stars=raw.get("github_stars"),
        ai_summary=raw.get("ai_summary"),
        ai_keywords=raw.get("ai_keywords"),
        **{name: raw.get(name) for name in _LINKS},
    )


class FileSource:
    """One file; ``name`` is what papers record as their source ("file", or "sample")."""

    def __init__(self, path: Path, *, now: datetime, name: str = "file") -> None:
        self.path = path
        self.now = now
        self.name = name

    def _first_byte(self) -> bytes:
        with self.path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(4096), b""):
                stripped = chunk.removeprefix(b"\xef\xbb\xbf").lstrip()
                if stripped:
                    return stripped[:1]
        return b""

    def expected_count(self) -> int | None:
        """Lines of a JSON Lines file (for a progress bar); None for a JSON list."""
        try:
            if self._first_byte() != b"{":
                return None
            with self.path.open("rb") as handle:
                return sum(1 for line in handle if line.strip())
        except OSError:
            return None

    def items(self) -> Iterator[Item]:
        try:
            first = self._first_byte()
            if first == b"[":
                yield from self._json_list()
            elif first == b"{":
                yield from self._json_lines()
            elif first:
                raise SourceError(f"{self.path}: neither a JSON list nor JSON Lines")
        except OSError as exc:
            raise SourceError(f"{self.path}: cannot read file ({exc.strerror})") from exc
        except UnicodeDecodeError as exc:
            raise SourceError(f"{self.path}: not UTF-8 text") from exc

    def _json_list(self) -> Iterator[Item]:
        try:
            with self.path.open(encoding="utf-8-sig") as handle:
                data = json.load(handle)
        except json.JSONDecodeError as exc:
            raise SourceError(f"{self.path}: not JSON ({exc.msg} at line {exc.lineno})") from exc
        if not isinstance(data, list):
            raise SourceError(f"{self.path}: must be a JSON list of papers")
        for index, raw in enumerate(data):
            yield self._item(raw, f"item {index}")

    def _json_lines(self) -> Iterator[Item]:
        with self.path.open(encoding="utf-8-sig") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    raw = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield Skipped(self.name, f"line {number}", f"not JSON ({exc.msg})")
                    continue
                yield self._item(raw, f"line {number}")

    def _item(self, raw: Any, where: str) -> Item:
        try:
            return parse_paper(raw, self.name, self.now)
        except BadItem as exc:
            title = raw.get("title") if isinstance(raw, dict) else None
            label = f" ({title[:60]!r})" if isinstance(title, str) and title.strip() else ""
            return Skipped(self.name, where + label, str(exc))
