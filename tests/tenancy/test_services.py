from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from leadcrm.tenancy.models import AuditLog, Tenant
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import api_key_create, api_key_revoke, tenant_settings_update

pytestmark = pytest.mark.django_db


def test_tenant_settings_change_is_audited_with_before_and_after(tenant_a):
    user = tenant_a.owner.user
    tenant_settings_update(tenant=tenant_a.tenant, actor=user, timezone="Asia/Hong_Kong", locale="en")
    with tenant_scope(tenant_a.tenant.id):
        entry = AuditLog.objects.get(action="tenant.settings_update")
    assert entry.actor == user
    assert entry.changes == {
        "timezone": {"from": "Asia/Shanghai", "to": "Asia/Hong_Kong"},
        "locale": {"from": "zh-hans", "to": "en"},
    }
    assert Tenant.objects.get(id=tenant_a.tenant.id).locale == "en"


def test_invalid_tenant_setting_changes_nothing(tenant_a):
    with pytest.raises(ValidationError):
        tenant_settings_update(tenant=tenant_a.tenant, actor=None, locale="fr")
    assert Tenant.objects.get(id=tenant_a.tenant.id).locale == "zh-hans"
    with tenant_scope(tenant_a.tenant.id):
        assert not AuditLog.objects.filter(action="tenant.settings_update").exists()


def test_api_key_is_shown_once_stored_hashed_and_revocation_is_audited(tenant_a):
    created = api_key_create(tenant=tenant_a.tenant, name="erp", scopes=["read"])
    assert created.raw_key.startswith(f"lc_{created.api_key.prefix}_")
    assert created.raw_key not in created.api_key.hashed_secret
    api_key_revoke(tenant=tenant_a.tenant, api_key_id=created.api_key.id)
    with tenant_scope(tenant_a.tenant.id):
        actions = list(AuditLog.objects.filter(object_id=str(created.api_key.id)).values_list("action", flat=True))
    assert sorted(actions) == ["api_key.create", "api_key.revoke"]


def test_unknown_scope_is_refused(tenant_a):
    with pytest.raises(ValidationError, match="Unknown scope"):
        api_key_create(tenant=tenant_a.tenant, name="bad", scopes=["root"])


def test_suspending_and_reactivating_a_tenant_is_audited_once_each(tenant_a):
    from leadcrm.tenancy.selectors import membership_list_for_user
    from leadcrm.tenancy.services import tenant_reactivate, tenant_suspend

    owner = tenant_a.owner.user
    tenant_suspend(tenant=tenant_a.tenant, actor=owner)
    tenant_suspend(tenant=tenant_a.tenant, actor=owner)  # already suspended: nothing more happens
    assert Tenant.objects.get(id=tenant_a.tenant.id).is_active is False
    assert membership_list_for_user(user=owner) == []  # its pages are closed too
    tenant_reactivate(tenant=tenant_a.tenant, actor=owner)
    assert Tenant.objects.get(id=tenant_a.tenant.id).is_active is True
    with tenant_scope(tenant_a.tenant.id):
        entries = list(AuditLog.objects.filter(object_type="tenant").order_by("id"))
    assert [(e.action, e.actor, e.changes) for e in entries] == [
        ("tenant.suspend", owner, {"is_active": {"from": True, "to": False}}),
        ("tenant.reactivate", owner, {"is_active": {"from": False, "to": True}}),
    ]
