"""Where other apps add entries to a lead's timeline on its page, so leads never imports them
(assignment adds follow-ups and violations, behaviour events and score changes). A provider
gets the lead and returns (at, kind, title, detail) tuples in the request's language, reading
set-based (a few queries per lead page)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from leads.models import Lead

TimelineRow = tuple[datetime, str, str, str]  # at, kind (a CSS hook), title, detail
LeadTimelineProvider = Callable[..., list[TimelineRow]]  # called as provider(lead=...)

_providers: dict[str, LeadTimelineProvider] = {}


def lead_timeline_register(*, name: str, provider: LeadTimelineProvider) -> None:
    """Register (or replace, on a repeated `ready()`) the provider called `name`."""
    _providers[name] = provider


def lead_timeline_extra(*, lead: Lead) -> list[TimelineRow]:
    """Every provider's entries for the lead."""
    rows: list[TimelineRow] = []
    for provider in _providers.values():
        rows.extend(provider(lead=lead))
    return rows
