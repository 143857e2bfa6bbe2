"""The browser tests' lead book: the demo's own builder (`demo.seed.demo_book_build`) at a
smaller size, so the tests and `make demo` show the same kind of data made the same way."""

from __future__ import annotations

from typing import Any

from demo.seed import STAFF_PASSWORD, demo_book_build, staff_domain
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import CreatedTenant
from leads.models import Lead

__all__ = ["STAFF_PASSWORD", "demo_lead_book", "staff_email"]


def staff_email(created: CreatedTenant, local_part: str) -> str:
    """`manager`, `rep1` … `rep8` of the book's staff."""
    return f"{local_part}@{staff_domain(created.tenant.slug)}"


def demo_lead_book(created: CreatedTenant, *, count: int = 64, seed: int = 20250301) -> dict[str, Any]:
    """Staff (manager, reps), `count` leads with history, one re-submission collected into the
    showcase lead and one duplicate of it. Returns the staff and the leads the tests look for."""
    book = demo_book_build(tenant=created.tenant, admin=created.owner.user, leads=count, seed=seed)
    with tenant_scope(created.tenant.id):
        return {
            "manager": book.manager,
            "reps": book.reps,
            "showcase": Lead.objects.get(id=book.showcase_id),
            "duplicate": Lead.objects.get(id=book.duplicate_id),
            "lead_count": Lead.objects.count(),
        }
