"""Notifications are stored once per key and e-mailed once, after the commit."""

from __future__ import annotations

import pytest
from django.core import mail

from leadcrm.notifications.models import Notification
from leadcrm.notifications.services import Notice, notify_many
from leadcrm.tenancy.scoping import tenant_scope

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_keyed_notice_is_stored_and_mailed_once_and_a_rolled_back_one_never(tenant_a, tenant_b):
    user_id = tenant_a.owner.user_id
    notice = Notice(recipient_id=user_id, kind="sla.warning", title="线索即将超时", dedup_key="w:1", email=True)
    with tenant_scope(tenant_a.tenant.id):
        assert notify_many(tenant_id=tenant_a.tenant.id, notices=[notice]) == 1
    with tenant_scope(tenant_a.tenant.id):
        assert notify_many(tenant_id=tenant_a.tenant.id, notices=[notice, Notice(recipient_id=user_id, kind="x", title="t")]) == 1
    assert [m.subject for m in mail.outbox] == ["线索即将超时"]
    with pytest.raises(RuntimeError), tenant_scope(tenant_a.tenant.id):
        notify_many(tenant_id=tenant_a.tenant.id, notices=[Notice(recipient_id=user_id, kind="y", title="回滚", email=True)])
        raise RuntimeError("the caller fails")
    assert len(mail.outbox) == 1
    with tenant_scope(tenant_a.tenant.id):
        assert sorted(Notification.objects.values_list("kind", flat=True)) == ["sla.warning", "x"]
    with tenant_scope(tenant_b.tenant.id):
        assert not Notification.objects.exists()
