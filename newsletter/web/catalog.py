"""The curated topics offered as checkboxes (``newsletter.matching.catalog``), as the forms use
them: ticking one stores exactly its label, keywords and description as the subscriber's topic.
"""

from __future__ import annotations

from collections.abc import Sequence

from newsletter.matching.catalog import CATALOG, CatalogTopic

CatalogEntry = CatalogTopic


def load_catalog() -> tuple[CatalogEntry, ...]:
    return CATALOG


def catalog_label_ids(catalog: Sequence[CatalogEntry]) -> dict[str, str]:
    """Label (casefolded) -> id, to recognise a stored topic as a catalog choice."""
    return {entry.label.casefold(): entry.id for entry in catalog}
