"""Routing profiles: when a rep may receive leads and how many (API.md PUT
/members/{user_id}/routing). Validation lives here so the API and the page give the same
messages, each under the field at fault (`working_hours[1].end`)."""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from assignment.models import RoutingProfile
from leadcrm.tenancy.models import Tenant
from leadcrm.tenancy.services import audit_log_record

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
MAX_WEIGHT = Decimal("9999.99")


@dataclass(frozen=True)
class WorkingHours:
    weekday: int  # Monday = 0
    start: str  # "HH:MM"
    end: str

    def as_json(self) -> dict[str, Any]:
        return {"weekday": self.weekday, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class RoutingProfileInput:
    on_duty: bool
    timezone: str
    working_hours: list[WorkingHours]
    daily_receive_cap: int | None
    max_open: int | None
    weight: Decimal


def _int_or_none(value: Any, *, field: str, errors: dict[str, list[str]]) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().lstrip("-").isdigit():
        errors[field] = ["Must be a whole number (0 or more), or null for no limit."]
        return None
    number = int(value)
    if number < 0:
        errors[field] = ["Must be 0 or more (0 means this rep receives nothing), or null for no limit."]
        return None
    if number > 2_147_483_647:  # the column's range: beyond it is the sender's error, not a 500
        errors[field] = ["Must be at most 2147483647, or null for no limit."]
        return None
    return number


def routing_profile_validate(data: dict[str, Any]) -> RoutingProfileInput:
    """The payload as a checked input, or a ValidationError naming every field at fault."""
    errors: dict[str, list[str]] = {}
    on_duty = data.get("on_duty", True)
    if not isinstance(on_duty, bool):
        errors["on_duty"] = ["Must be true or false."]
    tz_name = str(data.get("timezone") or "Asia/Shanghai").strip()
    try:
        zoneinfo.ZoneInfo(tz_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = [f"'{tz_name}' is not a known time zone. Use an IANA name such as Asia/Shanghai."]
    hours: list[WorkingHours] = []
    raw_hours = data.get("working_hours") or []
    if not isinstance(raw_hours, list):
        errors["working_hours"] = ["Must be a list of {weekday, start, end}; empty means always on duty."]
        raw_hours = []
    seen: dict[int, list[tuple[str, str]]] = {}
    for index, item in enumerate(raw_hours):
        at = f"working_hours[{index}]"
        if not isinstance(item, dict):
            errors[at] = ["Must be an object {weekday, start, end}."]
            continue
        weekday = item.get("weekday")
        if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
            errors[f"{at}.weekday"] = ["Must be a whole number from 0 (Monday) to 6 (Sunday)."]
            continue
        start, end = str(item.get("start", "")).strip(), str(item.get("end", "")).strip()
        bad = False
        for name, value in (("start", start), ("end", end)):
            if not _HHMM.match(value):
                errors[f"{at}.{name}"] = [f"'{value}' is not a time: write HH:MM, e.g. 09:00."]
                bad = True
        if bad:
            continue
        if start >= end:
            errors[f"{at}.end"] = [f"Must be after the start ({start}); a day's hours end on the same day."]
            continue
        if any(start < other_end and other_start < end for other_start, other_end in seen.get(weekday, [])):
            errors[f"{at}.start"] = ["Overlaps another period of the same weekday."]
            continue
        seen.setdefault(weekday, []).append((start, end))
        hours.append(WorkingHours(weekday=weekday, start=start, end=end))
    daily_receive_cap = _int_or_none(data.get("daily_receive_cap"), field="daily_receive_cap", errors=errors)
    max_open = _int_or_none(data.get("max_open"), field="max_open", errors=errors)
    weight = Decimal(1)
    raw_weight = data.get("weight", 1)
    try:
        if isinstance(raw_weight, bool):
            raise InvalidOperation
        weight = Decimal(str(raw_weight))
        if not weight.is_finite() or weight <= 0 or weight > MAX_WEIGHT:
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors["weight"] = [f"Must be a number above 0 and at most {MAX_WEIGHT} (1 is the usual share)."]
    if errors:
        raise ValidationError(errors)
    hours.sort(key=lambda h: (h.weekday, h.start))
    return RoutingProfileInput(
        on_duty=bool(on_duty), timezone=tz_name, working_hours=hours, daily_receive_cap=daily_receive_cap,
        max_open=max_open, weight=weight.quantize(Decimal("0.01")),
    )


def routing_profile_get(*, user_id: int) -> RoutingProfile:
    """The rep's profile, or the defaults (not saved) when none was set: on duty, always."""
    profile = RoutingProfile.objects.filter(user_id=user_id).first()
    return profile if profile is not None else RoutingProfile(user_id=user_id)


def routing_profile_set(*, tenant: Tenant, user_id: int, data: dict[str, Any], actor: User | None) -> RoutingProfile:
    """Replace the rep's routing profile (audited). The caller checked that `user_id` is a member."""
    checked = routing_profile_validate(data)
    values = {
        "on_duty": checked.on_duty, "timezone": checked.timezone,
        "working_hours": [h.as_json() for h in checked.working_hours],
        "daily_receive_cap": checked.daily_receive_cap, "max_open": checked.max_open, "weight": checked.weight,
    }
    profile, created = RoutingProfile.objects.select_for_update().get_or_create(
        tenant=tenant, user_id=user_id, defaults=values
    )
    before = {name: _jsonable(getattr(profile, name)) for name in values}
    if not created:
        for name, value in values.items():
            setattr(profile, name, value)
        profile.save(update_fields=[*values, "updated_at"])
    after = {name: _jsonable(value) for name, value in values.items()}
    diff = {name: {"from": None if created else before[name], "to": after[name]} for name in values
            if created or before[name] != after[name]}
    if diff:
        audit_log_record(
            tenant=tenant, actor=actor, action="routing_profile.update", object_type="routing_profile",
            object_id=user_id, changes=diff,
        )
    return profile


def _jsonable(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def routing_profiles_by_user(*, user_ids: list[int]) -> dict[int, RoutingProfile]:
    return {p.user_id: p for p in RoutingProfile.objects.filter(user_id__in=user_ids)}


def receives_nothing(profile: RoutingProfile) -> bool:
    """Whether routing can never give this rep a lead: off duty, or a cap of zero."""
    return not profile.on_duty or profile.daily_receive_cap == 0 or profile.max_open == 0
