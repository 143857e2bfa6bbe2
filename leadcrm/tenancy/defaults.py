"""The default configuration of a new tenant (API.md 'Defaults of a new tenant').

Tenancy knows no app, so each app that has defaults registers an installer from its
`AppConfig.ready()`; `tenant_create` runs them all, in registration (INSTALLED_APPS) order,
inside the new tenant's scope and transaction. Installers must be idempotent: running them
again on an existing tenant fills in only what is missing.
"""

from __future__ import annotations

from collections.abc import Callable

from leadcrm.tenancy.models import Tenant
from leadcrm.tenancy.scoping import tenant_scope

TenantDefaultsInstaller = Callable[..., None]  # called as installer(tenant=tenant)

_installers: dict[str, TenantDefaultsInstaller] = {}


def tenant_defaults_register(*, name: str, installer: TenantDefaultsInstaller) -> None:
    """Register (or replace, on a repeated `ready()`) the installer called `name`."""
    _installers[name] = installer


def tenant_defaults_unregister(*, name: str) -> None:
    _installers.pop(name, None)


def tenant_defaults_installers() -> dict[str, TenantDefaultsInstaller]:
    return dict(_installers)


def tenant_defaults_install(*, tenant: Tenant) -> None:
    with tenant_scope(tenant.id):
        for installer in _installers.values():
            installer(tenant=tenant)
