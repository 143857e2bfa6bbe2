"""Where other apps add a few words to rows of the workbench list, so leads never imports them
(scoring says why a hot lead is hot). A provider gets the page's leads (50 at most) and returns
short texts by lead id, in the request's language; it must read set-based (one or two queries
for the page, never one per row) since the list is on every rep's screen all day."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.http import HttpRequest

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


# The bar of bulk actions above the list (assignment: assign, return, mark invalid). One
# provider; it gets the request, the page's lead ids (for "select all on this page") and the
# list's query string (to come back to), and returns the bar's HTML, or "" when the member's
# role offers no bulk action (the list then shows no checkboxes).
LeadListBulkBarProvider = Callable[..., str]  # called as provider(request=, lead_ids=, back_query=)

_bulk_bar: dict[str, LeadListBulkBarProvider] = {}


def lead_list_bulk_bar_register(*, provider: LeadListBulkBarProvider) -> None:
    _bulk_bar["provider"] = provider


def lead_list_bulk_bar(*, request: HttpRequest, lead_ids: list[int], back_query: str) -> str:
    provider = _bulk_bar.get("provider")
    return provider(request=request, lead_ids=lead_ids, back_query=back_query) if provider else ""
