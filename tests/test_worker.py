"""A real Celery worker process, against the test database and the configured broker."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from leadcrm.api.tasks import idempotency_purge_task
from leadcrm.tenancy.models import IdempotencyRecord
from leadcrm.tenancy.scoping import tenant_scope
from tests.conftest import make_tenant

pytestmark = pytest.mark.django_db(transaction=True)


def test_worker_purges_expired_idempotency_keys_in_every_tenant(celery_worker_process):
    tenants = [make_tenant("worker-a", with_api_key=False).tenant, make_tenant("worker-b", with_api_key=False).tenant]
    for tenant in tenants:
        with tenant_scope(tenant.id):
            old = IdempotencyRecord.objects.create(tenant=tenant, owner_key="user:1", key="old", request_fingerprint="x")
            IdempotencyRecord.objects.filter(id=old.id).update(created_at=timezone.now() - timedelta(hours=25))
            IdempotencyRecord.objects.create(tenant=tenant, owner_key="user:1", key="fresh", request_fingerprint="y")

    idempotency_purge_task.delay()

    def remaining() -> list[str]:
        keys: list[str] = []
        for tenant in tenants:
            with tenant_scope(tenant.id):
                keys += list(IdempotencyRecord.objects.order_by("key").values_list("key", flat=True))
        return keys

    deadline = time.monotonic() + 60
    while remaining() != ["fresh", "fresh"] and time.monotonic() < deadline:
        assert celery_worker_process.poll() is None, "the worker died"
        time.sleep(0.5)
    assert remaining() == ["fresh", "fresh"]
