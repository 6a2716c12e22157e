"""Counts per edition for ``newsletter status``: where every delivery of an edition stands.

``retrying`` is a pending row that has already failed at least once; ``skipped`` is a
subscriber with nothing relevant (a ``suppressed`` row written by the edition build), kept
apart from suppressions for unsubscribes and bounces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from newsletter.delivery.ledger.claims import NOTHING_RELEVANT
from newsletter.store.models import Delivery, DeliveryStatus, Edition, Frequency

COLUMNS = ("due", "sent", "pending", "retrying", "sending", "failed", "suppressed", "skipped",
           "ambiguous")


@dataclass
class EditionStatus:
    edition_id: int
    frequency: Frequency
    issue_date: date
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COLUMNS, 0))


def _column(status: DeliveryStatus, retried: bool, skipped: bool) -> str:
    if status is DeliveryStatus.PENDING and retried:
        return "retrying"
    if status is DeliveryStatus.SUPPRESSED and skipped:
        return "skipped"
    return status.value


def edition_status(session: Session, limit: int = 20) -> list[EditionStatus]:
    """The ``limit`` most recent editions, newest first."""
    editions = session.execute(
        select(Edition.id, Edition.frequency, Edition.issue_date)
        .order_by(Edition.issue_date.desc(), Edition.id.desc())
        .limit(limit)
    ).all()
    result = {e.id: EditionStatus(e.id, e.frequency, e.issue_date) for e in editions}
    if not result:
        return []
    retried = case((Delivery.attempts > 0, True), else_=False)
    skipped = case((Delivery.last_reply == NOTHING_RELEVANT, True), else_=False)
    rows = session.execute(
        select(Delivery.edition_id, Delivery.status, retried, skipped, func.count())
        .where(Delivery.edition_id.in_(list(result)))
        .group_by(Delivery.edition_id, Delivery.status, retried, skipped)
    )
    for edition_id, status, was_retried, was_skipped, count in rows:
        counts = result[edition_id].counts
        counts[_column(DeliveryStatus(status), bool(was_retried), bool(was_skipped))] += count
        counts["due"] += count
    return list(result.values())
