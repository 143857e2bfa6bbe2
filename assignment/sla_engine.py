"""Follow-up deadline arithmetic (T+N), pure: no ORM, unit-tested alone.

`within` counts from the owner change `at`: minutes, hours and days are clock time (a day is
24 hours); working hours count only the owner's working intervals, read in the owner's time
zone. Empty working hours mean always on duty, and so do working hours that never open (every
interval empty): a deadline that could never come would never be enforced."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

MINUTES, HOURS, WORKING_HOURS, DAYS = "minutes", "hours", "working_hours", "days"
UNITS = (MINUTES, HOURS, WORKING_HOURS, DAYS)
_SEARCH_DAYS = 400  # more than a year of calendar for one deadline: ample for any weekly schedule


@dataclass(frozen=True)
class Interval:
    weekday: int  # Monday = 0
    start: time
    end: time  # exclusive; "24:00" is read as the end of the day


def _clock(text: str) -> time:
    if text in ("24:00", "24:00:00"):
        return time.max
    return time.fromisoformat(text)


def working_intervals(raw: list[dict[str, Any]] | None) -> list[Interval]:
    """A routing profile's `working_hours` as intervals; malformed entries are skipped (the
    profile API validates them; this must never fail a sweep)."""
    intervals = []
    for entry in raw or []:
        try:
            interval = Interval(weekday=int(entry["weekday"]), start=_clock(entry["start"]), end=_clock(entry["end"]))
        except (KeyError, TypeError, ValueError):
            continue
        if 0 <= interval.weekday <= 6 and interval.end > interval.start:
            intervals.append(interval)
    return sorted(intervals, key=lambda i: (i.weekday, i.start))


def clock_delta(value: Decimal | float | int, unit: str) -> timedelta:
    """`value` of a clock unit (working hours read as hours) as a duration."""
    amount = float(value)
    if unit == MINUTES:
        return timedelta(minutes=amount)
    if unit == DAYS:
        return timedelta(days=amount)
    return timedelta(hours=amount)


def working_time_add(*, at: datetime, hours: Decimal | float | int, intervals: list[Interval], tz_name: str) -> datetime:
    """`at` plus `hours` of working time in the time zone `tz_name`."""
    remaining = timedelta(hours=float(hours))
    if not intervals or remaining <= timedelta(0):
        return at + remaining
    tz = _zone(tz_name)
    local = at.astimezone(tz)
    by_weekday: dict[int, list[Interval]] = {}
    for interval in intervals:
        by_weekday.setdefault(interval.weekday, []).append(interval)
    day: date = local.date()
    for _ in range(_SEARCH_DAYS):
        for interval in by_weekday.get(day.weekday(), []):
            start = datetime.combine(day, interval.start, tzinfo=tz)
            end = (
                datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
                if interval.end == time.max else datetime.combine(day, interval.end, tzinfo=tz)
            )
            # Wall-clock arithmetic is wrong across a DST change: compare and subtract in UTC.
            start_utc, end_utc = max(start.astimezone(zoneinfo.ZoneInfo("UTC")), at), end.astimezone(zoneinfo.ZoneInfo("UTC"))
            if end_utc <= start_utc:
                continue
            available = end_utc - start_utc
            if remaining <= available:
                return (start_utc + remaining).astimezone(at.tzinfo)
            remaining -= available
        day += timedelta(days=1)
    return at + timedelta(hours=float(hours))  # unreachable for a weekly schedule; never fail


def deadline_compute(
    *, at: datetime, value: Decimal | float | int, unit: str, working_hours: list[dict[str, Any]] | None = None,
    tz_name: str = "Asia/Shanghai",
) -> datetime:
    """The deadline of a lead whose owner changed at `at` under a policy of `value` `unit`."""
    if unit == WORKING_HOURS:
        return working_time_add(at=at, hours=value, intervals=working_intervals(working_hours), tz_name=tz_name)
    return at + clock_delta(value, unit)


def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("Asia/Shanghai")


# Incentive (SPEC §5): reps whose follow-up timeliness over the last 30 days is high earn a
# larger daily receive cap. Shown on the statistics page; recomputed nightly.
INCENTIVE_WINDOW_DAYS = 30
INCENTIVE_MIN_DEADLINES = 5  # fewer deadlines say nothing about a rep
INCENTIVE_STEPS: tuple[tuple[Decimal, Decimal], ...] = ((Decimal("0.95"), Decimal("0.20")), (Decimal("0.80"), Decimal("0.10")))


def cap_bonus_compute(*, met: int, missed: int, daily_receive_cap: int | None) -> int:
    """Extra leads a day: ≥ 95 % of deadlines met → +20 % of the cap, ≥ 80 % → +10 %
    (rounded up, at least one); none below, under five deadlines, or without a cap."""
    total = met + missed
    if not daily_receive_cap or total < INCENTIVE_MIN_DEADLINES:
        return 0
    share = Decimal(met) / Decimal(total)
    for threshold, bonus in INCENTIVE_STEPS:
        if share >= threshold:
            return max(1, int((Decimal(daily_receive_cap) * bonus).to_integral_value(rounding="ROUND_CEILING")))
    return 0
