"""Where other apps add a few words to rows of the workbench list, so leads never imports them
(scoring says why a hot lead is hot). A provider gets the page's leads (50 at most) and returns
short texts by lead id, in the request's language; it must read set-based (one or two queries
for the page, never one per row) since the list is on every rep's screen all day."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from leads.models import Lead

LeadListNotesProvider = Callable[..., dict[int, list[str]]]  # called as provider(leads=[...])

_providers: dict[str, LeadListNotesProvider] = {}


def lead_list_notes_register(*, name: str, provider: LeadListNotesProvider) -> None:
    """Register (or replace, on a repeated `ready()`) the provider called `name`."""
    _providers[name] = provider


def lead_list_notes_unregister(*, name: str) -> None:
    _providers.pop(name, None)


def lead_list_notes(*, leads: Sequence[Lead]) -> dict[int, list[str]]:
    """Every provider's notes for the page's leads, in registration order."""
    notes: dict[int, list[str]] = {}
    if not leads:
        return notes
    for provider in _providers.values():
        for lead_id, texts in provider(leads=leads).items():
            notes.setdefault(lead_id, []).extend(texts)
    return notes
