"""Who is due at a given instant: send hours in many time zones, weekly days, DST edges."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from newsletter.scheduler.due import Candidate, Issue, due_issue, group_due
from newsletter.store.models import Frequency

DAILY, WEEKLY = Frequency.DAILY, Frequency.WEEKLY
MONDAY = 0


def at(zone: str, *args: int) -> datetime:
    """A local wall-clock time in ``zone``, as an aware UTC instant."""
    return datetime(*args, tzinfo=ZoneInfo(zone)).astimezone(UTC)  # type: ignore[misc]


def due(candidate: Candidate, now: datetime, weekday: int = MONDAY) -> Issue | None:
    return due_issue(candidate, now, weekly_weekday=weekday)


def test_daily_is_due_from_the_send_hour_on_in_the_subscribers_own_zone() -> None:
    paris = Candidate(1, DAILY, 7, "Europe/Paris")
    assert due(paris, at("Europe/Paris", 2026, 11, 24, 6, 59)) is None
    assert due(paris, at("Europe/Paris", 2026, 11, 24, 7, 0)) == Issue(DAILY, date(2026, 11, 24))
    assert due(paris, at("Europe/Paris", 2026, 11, 24, 23, 59)) == Issue(DAILY, date(2026, 11, 24))
    assert due(paris, at("Europe/Paris", 2026, 11, 25, 0, 30)) is None


def test_one_instant_different_zones() -> None:
    now = datetime(2026, 11, 24, 6, 30, tzinfo=UTC)  # Tuesday
    people = [
        Candidate(1, DAILY, 7, "UTC"),  # 06:30: not yet
        Candidate(2, DAILY, 7, "Europe/Paris"),  # 07:30: due, the 24th
        Candidate(3, DAILY, 7, "Asia/Tokyo"),  # 15:30: due, the 24th
        Candidate(4, DAILY, 22, "America/Los_Angeles"),  # 22:30 on the 23rd: due, the 23rd
        Candidate(5, DAILY, 7, "Pacific/Kiritimati"),  # UTC+14: 20:30 on the 24th
        Candidate(6, DAILY, 7, "Asia/Kolkata"),  # UTC+5:30: 12:00
        Candidate(7, DAILY, 12, "Asia/Kathmandu"),  # UTC+5:45: 12:15, due
        Candidate(8, DAILY, 13, "Asia/Kathmandu"),  # not yet
    ]
    groups = group_due(people, now, weekly_weekday=MONDAY)
    assert groups == {
        Issue(DAILY, date(2026, 11, 23)): [4],
        Issue(DAILY, date(2026, 11, 24)): [2, 3, 5, 6, 7],
    }


def test_weekly_only_on_the_weekly_day_in_local_time() -> None:
    tokyo = Candidate(1, WEEKLY, 8, "Asia/Tokyo")
    # Sunday 23:30 UTC is already Monday 08:30 in Tokyo.
    sunday_utc = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    assert due(tokyo, sunday_utc) == Issue(WEEKLY, date(2026, 11, 23))
    assert due(tokyo, sunday_utc, weekday=6) is None
    new_york = Candidate(2, WEEKLY, 8, "America/New_York")
    assert due(new_york, sunday_utc) is None  # still Sunday evening there
    assert due(new_york, at("America/New_York", 2026, 11, 23, 8)) == Issue(
        WEEKLY, date(2026, 11, 23)
    )
    assert due(new_york, at("America/New_York", 2026, 11, 24, 9)) is None


def test_spring_forward_skipped_hour_is_still_served() -> None:
    # 2026-03-08: New York clocks jump from 02:00 to 03:00; 02:30 never happens.
    two = Candidate(1, DAILY, 2, "America/New_York")
    before = datetime(2026, 3, 8, 6, 59, tzinfo=UTC)  # 01:59 EST
    after = datetime(2026, 3, 8, 7, 0, tzinfo=UTC)  # 03:00 EDT
    assert due(two, before) is None
    assert due(two, after) == Issue(DAILY, date(2026, 3, 8))


def test_fall_back_repeated_hour_names_one_issue() -> None:
    # 2026-11-01: New York clocks go from 02:00 back to 01:00; 01:30 happens twice.
    one = Candidate(1, DAILY, 1, "America/New_York")
    first = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT
    second = datetime(2026, 11, 1, 6, 30, tzinfo=UTC)  # 01:30 EST
    assert due(one, first) == due(one, second) == Issue(DAILY, date(2026, 11, 1))


def test_european_dst_shifts_the_utc_time_of_the_send_hour() -> None:
    berlin = Candidate(1, DAILY, 7, "Europe/Berlin")
    summer = datetime(2026, 7, 1, 5, 0, tzinfo=UTC)  # 07:00 CEST
    winter = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)  # 06:00 CET
    assert due(berlin, summer) is not None
    assert due(berlin, winter) is None


def test_unknown_zone_falls_back_to_utc() -> None:
    broken = Candidate(1, DAILY, 7, "Not/AZone")
    assert due(broken, datetime(2026, 11, 24, 7, 0, tzinfo=UTC)) == Issue(DAILY, date(2026, 11, 24))


ZONES = st.sampled_from(
    ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe",
     "Pacific/Chatham", "America/St_Johns", "Pacific/Kiritimati", "Pacific/Pago_Pago"]
)
INSTANTS = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)


@given(zone=ZONES, hour=st.integers(0, 23), now=INSTANTS, weekly=st.booleans(),
       weekday=st.integers(0, 6))
def test_due_issue_is_the_local_date_and_only_after_the_hour(
    zone: str, hour: int, now: datetime, weekly: bool, weekday: int
) -> None:
    candidate = Candidate(1, WEEKLY if weekly else DAILY, hour, zone)
    issue = due_issue(candidate, now, weekly_weekday=weekday)
    local = now.astimezone(ZoneInfo(zone))
    if issue is None:
        assert local.hour < hour or (weekly and local.weekday() != weekday)
    else:
        assert issue.issue_date == local.date()
        assert local.hour >= hour
        assert not weekly or local.weekday() == weekday


@given(zone=ZONES, hour=st.integers(0, 23), day=st.dates(date(2024, 1, 1), date(2030, 12, 30)))
def test_every_local_day_is_served_exactly_once_by_a_5_minute_checker(
    zone: str, hour: int, day: date
) -> None:
    """Checking every 5 minutes across one local day finds the daily issue, and only that one."""
    candidate = Candidate(1, DAILY, hour, zone)
    start = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone)).astimezone(UTC)
    issues = set()
    for step in range(0, 24 * 60, 5):
        found = due(candidate, start + timedelta(minutes=step))
        if found is not None:
            issues.add(found)
    # A day may be 23 or 25 hours long; every issue found names the local day.
    assert issues <= {Issue(DAILY, day), Issue(DAILY, day + timedelta(days=1))}
    assert Issue(DAILY, day) in issues or _hour_missing(zone, day, hour)


def _hour_missing(zone: str, day: date, hour: int) -> bool:
    """True when no instant of the local day reaches ``hour`` (only at DST edges)."""
    start = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone)).astimezone(UTC)
    end = start + timedelta(hours=25)
    probe = start
    while probe < end:
        local = probe.astimezone(ZoneInfo(zone))
        if local.date() == day and local.hour >= hour:
            return False
        probe += timedelta(minutes=5)
    return True
