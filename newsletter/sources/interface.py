"""The one interface every source implements."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from newsletter.sources.records import ListedPaper, Revision, Skipped

Item = ListedPaper | Revision | Skipped


class Source(Protocol):
    """A listing read lazily: records and skipped items interleaved, in listing order.

    ``items`` raises :class:`~newsletter.errors.SourceError` when the listing cannot be read at
    all (the server is down, the file is missing); whatever was yielded before stays valid.
    """

    @property
    def name(self) -> str: ...

    def items(self) -> Iterator[Item]: ...
