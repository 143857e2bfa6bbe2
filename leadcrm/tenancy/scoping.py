"""Fail-closed tenant scoping.

Two layers keep one tenant's rows away from another:

1. `TenantManager` (the `objects` manager of every tenant-owned model) filters by the tenant
   in the current `tenant_scope()` and raises `TenantScopeMissing` when there is none, rather
   than returning every tenant's rows.
2. PostgreSQL row-level security. `tenant_scope()` opens a transaction and sets
   `app.tenant_id` with `set_config(..., true)`: the setting dies with the transaction, so a
   pooled connection can never carry one request's tenant into the next. Policies compare
   each row's `tenant_id` with it; with no setting a query sees nothing.

The manager is the first line, not a boundary (raw SQL and related managers bypass it), which
is why RLS sits underneath and every endpoint has an isolation test.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, TypeVar

from django.db import connection, models, transaction

from leadcrm.db import fetch_prepared

if TYPE_CHECKING:
    from contextvars import Token

M = TypeVar("M", bound=models.Model)

_current_tenant_id: ContextVar[int | None] = ContextVar("current_tenant_id", default=None)


class TenantScopeMissing(RuntimeError):
    """A tenant-owned model was queried with no tenant in scope."""


def current_tenant_id() -> int | None:
    return _current_tenant_id.get()


def activate_tenant(tenant_id: int) -> Token[int | None]:
    return _current_tenant_id.set(tenant_id)


def deactivate_tenant(token: Token[int | None]) -> None:
    _current_tenant_id.reset(token)


def _set_db_setting(name: str, value: str) -> None:
    # Prepared: every tenant-scoped request sends it.
    fetch_prepared([("SELECT set_config(%s, %s, true)", [name, value])])


@contextmanager
def tenant_scope(tenant_id: int) -> Iterator[None]:
    """Run the block as `tenant_id`: the manager filters by it and RLS sees only its rows.

    The block is one transaction (or a savepoint of the caller's), because the database
    setting is transaction-local by design.
    """
    previous = _current_tenant_id.get()
    token = activate_tenant(tenant_id)
    try:
        with transaction.atomic():
            _set_db_setting("app.tenant_id", str(tenant_id))
            yield
        if connection.in_atomic_block and not connection.needs_rollback:
            # Still inside the caller's transaction: hand back the caller's tenant (or none),
            # since a released savepoint keeps the setting until the outer transaction ends.
            _set_db_setting("app.tenant_id", "" if previous is None else str(previous))
    finally:
        deactivate_tenant(token)


@contextmanager
def identity_lookup(*, user_id: int | None = None, api_key_prefix: str | None = None) -> Iterator[None]:
    """Let RLS show a user's own memberships or one API key's row before any tenant is known
    (log-in, tenant switcher, API key authentication). Only those rows: see rls.py."""
    with transaction.atomic():
        if user_id is not None:
            _set_db_setting("app.user_id", str(user_id))
        if api_key_prefix is not None:
            _set_db_setting("app.api_key_prefix", api_key_prefix)
        yield


class TenantManager(models.Manager[M]):
    def get_queryset(self) -> models.QuerySet[M]:
        if (tenant_id := _current_tenant_id.get()) is None:
            raise TenantScopeMissing(f"{self.model.__name__} queried outside tenant_scope()")
        return super().get_queryset().filter(tenant_id=tenant_id)
