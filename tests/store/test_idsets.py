"""Ids in a WHERE clause: a range when they are dense, a list when sparse."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql

from newsletter.store.idsets import among, is_dense
from newsletter.store.models import Subscriber


def _sql(ids: list[int]) -> str:
    statement = select(Subscriber.id).where(among(Subscriber.id, ids))
    return str(statement.compile(dialect=postgresql.dialect()))


def test_dense_ids_are_a_range_and_sparse_ones_a_list() -> None:
    assert is_dense([3, 4, 6, 9]) and not is_dense([1, 500]) and not is_dense([])
    assert "BETWEEN" in _sql([3, 4, 6, 9])
    assert " IN " in _sql([1, 500]) and "BETWEEN" not in _sql([1, 500])
