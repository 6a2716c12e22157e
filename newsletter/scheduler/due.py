"""Who is due for which issue at a given instant. Pure: no clock, no database.

A subscriber is due once their local wall clock (in their own IANA zone) has reached their send
hour on the issue's day: every day for daily, on ``weekly_send_weekday`` for weekly. The issue
is named by the subscriber's local date, so people on both sides of the date line get "their"
Tuesday. Being due all the rest of that day makes a late or restarted scheduler catch up, and the
one-delivery-per-edition rule makes running often harmless. DST needs no special case: on a
spring-forward day an hour that does not exist is simply passed (due at the next hour), and on a
fall-back day the repeated hour finds the delivery already made.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from newsletter.store.models import Frequency

log = logging.getLogger(__name__)
UTC_ZONE = ZoneInfo("UTC")


@dataclass(frozen=True)
class Candidate:
    """The schedule of one active subscriber."""

    id: int
    frequency: Frequency
    send_hour: int
    timezone: str


@dataclass(frozen=True, order=True)
class Issue:
    """One edition: all subscribers due for it share it."""

    frequency: Frequency
    issue_date: date


def zone(name: str) -> ZoneInfo:
    """The subscriber's zone; an unknown name (hand-edited row) falls back to UTC."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown timezone %r, using UTC", name)
        return UTC_ZONE


def local_date(now: datetime, timezone: str) -> date:
    return now.astimezone(zone(timezone)).date()


def due_issue(candidate: Candidate, now: datetime, *, weekly_weekday: int) -> Issue | None:
    """The issue this subscriber is due for at ``now`` (aware), or None if not yet/not today."""
    local = now.astimezone(zone(candidate.timezone))
    if local.hour < candidate.send_hour:
        return None
    if candidate.frequency is Frequency.WEEKLY and local.weekday() != weekly_weekday:
        return None
    return Issue(candidate.frequency, local.date())


def group_due(
    candidates: Iterable[Candidate], now: datetime, *, weekly_weekday: int
) -> dict[Issue, list[int]]:
    """Due subscriber ids per issue, ids ascending within each issue."""
    groups: dict[Issue, list[int]] = defaultdict(list)
    for candidate in candidates:
        issue = due_issue(candidate, now, weekly_weekday=weekly_weekday)
        if issue is not None:
            groups[issue].append(candidate.id)
    return {issue: sorted(ids) for issue, ids in sorted(groups.items())}
