"""The one shape of paper that matching reads, whether it comes from the store or a JSON file.

Matching never imports the ORM: anything with these attributes will do, so the same code ranks
rows from the database in production and plain records in the evaluation command and the tests.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol


class PaperLike(Protocol):
    """Read-only view of a paper; ``newsletter.store.models.Paper`` satisfies it."""

    @property
    def id(self) -> int | str: ...

    @property
    def title(self) -> str: ...

    @property
    def abstract(self) -> str: ...

    @property
    def authors(self) -> Sequence[str]: ...

    @property
    def upvotes(self) -> int: ...

    @property
    def published_at(self) -> datetime | None: ...

    @property
    def featured_on(self) -> date | None: ...


@dataclass(frozen=True)
class PaperRecord:
    """A paper read from a file rather than the store (evaluation, benchmarks, tests)."""

    id: int | str
    title: str
    abstract: str = ""
    authors: tuple[str, ...] = ()
    upvotes: int = 0
    published_at: datetime | None = None
    featured_on: date | None = None


_NON_WORD = re.compile(r"[\W_]+")


def normalized_title(title: str) -> str:
    """Case, spacing and punctuation vary between listings of the same paper."""
    return " ".join(_NON_WORD.sub(" ", title.casefold()).split())


def title_id(title: str) -> str:
    """A stable id for listings that carry none, so re-runs and re-listings agree."""
    digest = hashlib.sha1(normalized_title(title).encode("utf-8")).hexdigest()
    return f"t{digest[:16]}"
