"""What inbound mail did, for ``newsletter status``: per edition, and per kind overall."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from newsletter.store.models import Delivery, InboundKind, InboundMessage

EDITION_COLUMNS = ("bounced", "complaints")
_EDITION_KINDS = {
    InboundKind.HARD_BOUNCE: "bounced", InboundKind.SOFT_BOUNCE: "bounced",
    InboundKind.COMPLAINT: "complaints",
}


@dataclass(frozen=True)
class KindCount:
    kind: InboundKind
    total: int
    recent: int
    latest: datetime | None


def edition_counts(session: Session, edition_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Bounces and complaints that came back by mail for each edition's deliveries."""
    counts = {e: dict.fromkeys(EDITION_COLUMNS, 0) for e in edition_ids}
    if not counts:
        return counts
    rows = session.execute(
        select(Delivery.edition_id, InboundMessage.kind, func.count())
        .join(Delivery, Delivery.id == InboundMessage.delivery_id)
        .where(Delivery.edition_id.in_(list(counts)),
               InboundMessage.kind.in_(list(_EDITION_KINDS)))
        .group_by(Delivery.edition_id, InboundMessage.kind)
    )
    for edition_id, kind, count in rows:
        if edition_id is None:  # account emails have no edition (the filter keeps them out)
            continue
        counts[edition_id][_EDITION_KINDS[InboundKind(kind)]] += count
    return counts


def kind_counts(session: Session, since: datetime) -> list[KindCount]:
    """Every kind of inbound message: how many ever, how many since ``since``, the latest."""
    recent = func.sum(case((InboundMessage.received_at >= since, 1), else_=0))
    rows = session.execute(
        select(InboundMessage.kind, func.count(), recent, func.max(InboundMessage.received_at))
        .group_by(InboundMessage.kind)
    ).all()
    found = {InboundKind(kind): (total, int(new or 0), latest) for kind, total, new, latest in rows}
    return [KindCount(kind, *found.get(kind, (0, 0, None))) for kind in InboundKind]
