"""Deadline arithmetic per unit, working hours across weekends and time zones (no database)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from assignment.sla_engine import cap_bonus_compute, deadline_compute

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS_9_TO_18 = [{"weekday": d, "start": "09:00", "end": "18:00"} for d in range(5)]


def test_clock_units_add_plain_time():
    at = datetime(2026, 3, 6, 17, 0, tzinfo=SHANGHAI)  # a Friday
    assert deadline_compute(at=at, value=30, unit="minutes") == datetime(2026, 3, 6, 17, 30, tzinfo=SHANGHAI)
    assert deadline_compute(at=at, value=Decimal("1.5"), unit="hours") == datetime(2026, 3, 6, 18, 30, tzinfo=SHANGHAI)
    assert deadline_compute(at=at, value=2, unit="days") == datetime(2026, 3, 8, 17, 0, tzinfo=SHANGHAI)


def test_working_hours_skip_the_weekend():
    friday_5pm = datetime(2026, 3, 6, 17, 0, tzinfo=SHANGHAI)
    deadline = deadline_compute(
        at=friday_5pm, value=4, unit="working_hours", working_hours=WEEKDAYS_9_TO_18, tz_name="Asia/Shanghai"
    )
    # One hour on Friday, three on Monday from 09:00.
    assert deadline == datetime(2026, 3, 9, 12, 0, tzinfo=SHANGHAI)


def test_working_hours_start_at_opening_when_assigned_at_night():
    saturday_night = datetime(2026, 3, 7, 23, 0, tzinfo=SHANGHAI)
    deadline = deadline_compute(
        at=saturday_night, value=2, unit="working_hours", working_hours=WEEKDAYS_9_TO_18, tz_name="Asia/Shanghai"
    )
    assert deadline == datetime(2026, 3, 9, 11, 0, tzinfo=SHANGHAI)


def test_working_hours_are_read_in_the_owners_time_zone():
    # 22:00 in Shanghai on a Monday is 09:00 in New York (EST, UTC-5, before the DST change):
    # a New York rep's working day has just started.
    at = datetime(2026, 3, 2, 22, 0, tzinfo=SHANGHAI)
    deadline = deadline_compute(
        at=at, value=2, unit="working_hours", working_hours=WEEKDAYS_9_TO_18, tz_name="America/New_York"
    )
    assert deadline == datetime(2026, 3, 2, 11, 0, tzinfo=NEW_YORK)
    assert deadline.astimezone(UTC) == datetime(2026, 3, 2, 16, 0, tzinfo=UTC)


def test_working_hours_across_a_dst_change_count_real_hours():
    # New York moves to summer time on Sunday 2026-03-08; Friday 17:00 EST + 2 working hours
    # = one hour Friday, one hour Monday from 09:00 EDT.
    friday = datetime(2026, 3, 6, 17, 0, tzinfo=NEW_YORK)
    deadline = deadline_compute(
        at=friday, value=2, unit="working_hours", working_hours=WEEKDAYS_9_TO_18, tz_name="America/New_York"
    )
    assert deadline.astimezone(NEW_YORK) == datetime(2026, 3, 9, 10, 0, tzinfo=NEW_YORK)


def test_empty_or_never_open_working_hours_count_as_always_on_duty():
    at = datetime(2026, 3, 7, 23, 0, tzinfo=SHANGHAI)
    expected = datetime(2026, 3, 8, 1, 0, tzinfo=SHANGHAI)
    assert deadline_compute(at=at, value=2, unit="working_hours", working_hours=[]) == expected
    never = [{"weekday": 0, "start": "09:00", "end": "09:00"}, {"weekday": 9, "start": "x", "end": "y"}]
    assert deadline_compute(at=at, value=2, unit="working_hours", working_hours=never) == expected


def test_cap_bonus_rewards_timely_reps_only():
    assert cap_bonus_compute(met=19, missed=1, daily_receive_cap=20) == 4  # 95 % → +20 %
    assert cap_bonus_compute(met=17, missed=3, daily_receive_cap=20) == 2  # 85 % → +10 %
    assert cap_bonus_compute(met=10, missed=10, daily_receive_cap=20) == 0
    assert cap_bonus_compute(met=3, missed=0, daily_receive_cap=20) == 0  # too few deadlines to judge
    assert cap_bonus_compute(met=20, missed=0, daily_receive_cap=None) == 0  # no cap to raise
    assert cap_bonus_compute(met=20, missed=0, daily_receive_cap=3) == 1  # at least one more
