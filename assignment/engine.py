"""Pure routing calculations (no ORM): which conditions match a lead, whether a rep is on
duty now, and which rep a strategy picks from a cursor. Unit-tested without a database;
`assignment.routing` feeds them rows it read under locks."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from math import gcd
from typing import Any

CONDITION_KEYS = ("province", "city", "industry", "source", "grade", "tier")


def conditions_problems(conditions: Any) -> list[str]:
    """Why `conditions` is not API.md's CONDITIONS (empty list: it is)."""
    if not isinstance(conditions, dict):
        return ["Conditions must be an object such as {\"province\": [\"广东\"]}."]
    problems = []
    for key, values in conditions.items():
        if key not in CONDITION_KEYS:
            problems.append(f"Unknown condition '{key}'. Use: {', '.join(CONDITION_KEYS)}.")
        elif not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
            problems.append(f"'{key}' must be a list of non-empty strings.")
    return problems


def conditions_match(conditions: Mapping[str, Sequence[str]], lead: Mapping[str, Any]) -> bool:
    """Every listed key must match one of its values; an empty list or `{}` matches all."""
    return all(not values or (lead.get(key) or "") in values for key, values in conditions.items())


def on_duty_at(*, working_hours: Sequence[Mapping[str, Any]], timezone_name: str, now: datetime) -> bool:
    """Whether `now` falls in one of the weekly slots in the rep's time zone (Monday = 0). No
    slots: always on duty. A slot whose end is not after its start never opens."""
    if not working_hours:
        return True
    try:
        local = now.astimezone(zoneinfo.ZoneInfo(timezone_name))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        local = now.astimezone(zoneinfo.ZoneInfo("Asia/Shanghai"))
    clock = local.time().replace(tzinfo=None)
    for slot in working_hours:
        if slot.get("weekday") != local.weekday():
            continue
        start, end = _clock(slot.get("start")), _clock(slot.get("end"))
        if start is not None and end is not None and start <= clock < end:
            return True
    return False


def _clock(value: Any) -> time | None:
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        return None


@dataclass(frozen=True)
class Pick:
    user_id: int
    cursor: int  # the rule's cursor after this pick


def pick_round_robin(
    *, reps: Sequence[int], cursor: int, eligible: Callable[[int], bool]
) -> Pick | None:
    """The first eligible rep from `cursor` (mod the number of reps); the cursor moves past
    the one chosen, so the next lead starts with the rep after it. Ineligible reps are passed
    over, not charged: they get the next lead once eligible again only when the turn comes."""
    count = len(reps)
    for step in range(count):
        user_id = reps[(cursor + step) % count]
        if eligible(user_id):
            return Pick(user_id=user_id, cursor=cursor + step + 1)
    return None


def pick_designated(*, reps: Sequence[int], cursor: int, eligible: Callable[[int], bool]) -> Pick | None:
    """The first eligible rep in the rule's order: the designated rep, then the backups."""
    for user_id in reps:
        if eligible(user_id):
            return Pick(user_id=user_id, cursor=cursor + 1)
    return None


def pick_weighted(
    *, reps: Sequence[int], weights: Sequence[Decimal | float | int], cursor: int, eligible: Callable[[int], bool]
) -> Pick | None:
    """Smooth weighted round-robin, replayed from the cursor: position `cursor` in a fixed
    schedule where each rep appears in proportion to their weight, interleaved (nginx's
    algorithm), so the spread is fair over any stretch, across restarts and workers. An
    ineligible rep's slot passes to the next slot's rep."""
    schedule = weighted_schedule(tuple(reps), tuple(Fraction(str(w)) for w in weights))
    if not schedule:
        return None
    for step in range(len(schedule)):
        user_id = schedule[(cursor + step) % len(schedule)]
        if eligible(user_id):
            return Pick(user_id=user_id, cursor=cursor + step + 1)
    return None


@lru_cache(maxsize=256)
def weighted_schedule(reps: tuple[int, ...], weights: tuple[Fraction, ...]) -> tuple[int, ...]:
    """One period of smooth weighted round-robin over integer weights (reduced by their gcd;
    reps with weight ≤ 0 never appear). E.g. weights 5, 1, 1 → a a b a c a a."""
    positive = [(rep, weight) for rep, weight in zip(reps, weights, strict=True) if weight > 0]
    if not positive:
        return ()
    denominator = 1
    for _rep, weight in positive:
        denominator = denominator * weight.denominator // gcd(denominator, weight.denominator)
    integers = [int(weight * denominator) for _rep, weight in positive]
    divisor = 0
    for value in integers:
        divisor = gcd(divisor, value)
    integers = [value // divisor for value in integers]
    total = sum(integers)
    if total > 100_000:  # absurdly fine weights: keep the period bounded, proportions to 0.1 %
        integers = [max(1, round(value * 1000 / total)) for value in integers]
        total = sum(integers)
    current = [0] * len(integers)
    schedule = []
    for _ in range(total):
        for index, value in enumerate(integers):
            current[index] += value
        best = max(range(len(current)), key=lambda i: (current[i], -i))
        current[best] -= total
        schedule.append(positive[best][0])
    return tuple(schedule)
