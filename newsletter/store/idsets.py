"""A set of ids in a WHERE clause: as a range when the ids are dense, as a list otherwise.

An edition build asks about its chunk of subscribers (thousands of consecutive ids) in several
queries. ``IN (5,000 parameters)`` is compiled, sent and matched id by id; ``BETWEEN low AND
high`` is one index range scan, and the few ids in the range that were not asked for are
dropped by the caller. Sparse ids (``--subscriber-ids``) stay a list.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# A list of ids is read as a range of ids when it fills at least this share of the range.
DENSE = 0.25


def is_dense(ids: Sequence[int]) -> bool:
    """Whether sorted ``ids`` fill enough of their range to be read as it."""
    return bool(ids) and len(ids) >= DENSE * (ids[-1] - ids[0] + 1)


def among(column: Any, ids: Sequence[int]) -> Any:
    """``column`` among sorted ``ids``; rows of other ids in the range may come back."""
    if is_dense(ids):
        return column.between(ids[0], ids[-1])
    return column.in_(ids)
