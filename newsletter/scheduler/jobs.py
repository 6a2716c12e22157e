"""One pass of each scheduled job, as plain functions of (database, settings, now).

The scheduler calls these on a timer; tests call them with any ``now`` they like.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.delivery.editions.build import build_edition
from newsletter.scheduler.due import Candidate, Issue, group_due, local_date
from newsletter.sources.runner import IngestReport, ingest_configured
from newsletter.store.database import Database
from newsletter.store.models import Delivery, Edition, Subscriber, SubscriberStatus

log = logging.getLogger(__name__)
CHUNK = 500


def _chunks(ids: Sequence[int], size: int = CHUNK) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def candidates(session: Session) -> list[Candidate]:
    rows = session.execute(
        select(Subscriber.id, Subscriber.frequency, Subscriber.send_hour, Subscriber.timezone)
        .where(Subscriber.status == SubscriberStatus.ACTIVE)
        .order_by(Subscriber.id)
    ).all()
    return [Candidate(r.id, r.frequency, r.send_hour, r.timezone) for r in rows]


def _already_served(session: Session, issue: Issue, ids: Sequence[int]) -> set[int]:
    edition_id = session.scalar(
        select(Edition.id).where(
            Edition.frequency == issue.frequency, Edition.issue_date == issue.issue_date
        )
    )
    if edition_id is None:
        return set()
    served: set[int] = set()
    for chunk in _chunks(ids):
        served.update(
            session.scalars(
                select(Delivery.subscriber_id).where(
                    Delivery.edition_id == edition_id, Delivery.subscriber_id.in_(chunk)
                )
            )
        )
    return served


def find_due(db: Database, settings: Settings, now: datetime) -> dict[Issue, list[int]]:
    """Who is due at ``now`` and has no delivery yet for that issue."""
    with db.session() as session:
        groups = group_due(candidates(session), now, weekly_weekday=settings.weekly_send_weekday)
        result: dict[Issue, list[int]] = {}
        for issue, ids in groups.items():
            served = _already_served(session, issue, ids)
            waiting = [i for i in ids if i not in served]
            if waiting:
                result[issue] = waiting
    return result


def run_editions(db: Database, settings: Settings, now: datetime) -> list[Any]:
    """Build every due edition for the subscribers due now; safe to run as often as wanted."""
    results = []
    for issue, ids in find_due(db, settings, now).items():
        log.info("building %s edition %s for %d subscriber(s)", *issue_label(issue), len(ids))
        results.append(
            build_edition(
                db,
                settings,
                frequency=issue.frequency,
                issue_date=issue.issue_date,
                now=now,
                subscriber_ids=ids,
            )
        )
    return results


def issue_label(issue: Issue) -> tuple[str, str]:
    return issue.frequency.value, issue.issue_date.isoformat()


def queue_first_digest(db: Database, settings: Settings, subscriber_id: int, now: datetime) -> Any:
    """Development: a just-confirmed subscriber's digest for today, queued at once."""
    with db.session() as session:
        subscriber = session.get(Subscriber, subscriber_id)
        if subscriber is None or subscriber.status is not SubscriberStatus.ACTIVE:
            return None
        frequency, zone_name = subscriber.frequency, subscriber.timezone
    return build_edition(
        db,
        settings,
        frequency=frequency,
        issue_date=local_date(now, zone_name),
        now=now,
        subscriber_ids=[subscriber_id],
    )


def run_ingest(
    settings: Settings, db: Database, now: datetime, *, sleep: Callable[[float], None] = time.sleep
) -> IngestReport:
    """Fetch new papers from the configured sources (a down source is reported, not raised)."""
    report = ingest_configured(settings, db, now=now, sleep=sleep)
    log.info("ingest: %s", report.summary())
    return report
