"""Intake asks for waiting events only when some may wait: the marker never forgets a batch
that left events pending, even one that commits while the attach task is looking."""

from __future__ import annotations

import pytest

from leadcrm.tenancy.scoping import tenant_scope
from scoring.events import (
    pending_marker_clear,
    pending_marker_generation,
    pending_marker_raise,
    pending_marker_refresh,
    tenant_may_have_pending_events,
)

pytestmark = pytest.mark.django_db


def test_a_tenant_nobody_has_looked_at_is_asked_about_once(tenant_a):
    tenant_id = tenant_a.tenant.id
    assert tenant_may_have_pending_events(tenant_id)  # unknown: the task finds out
    with tenant_scope(tenant_id):
        assert pending_marker_refresh(tenant_id=tenant_id) is False
    assert not tenant_may_have_pending_events(tenant_id)
    pending_marker_raise(tenant_id=tenant_id)
    assert tenant_may_have_pending_events(tenant_id)


def test_a_batch_that_commits_while_the_task_looks_is_not_forgotten(tenant_a):
    tenant_id = tenant_a.tenant.id
    with tenant_scope(tenant_id):
        pending_marker_refresh(tenant_id=tenant_id)
    # the task reads the generation, a batch leaves events pending and raises it, then the
    # task (whose look saw nothing yet) records "none left" as of what it read
    seen = pending_marker_generation(tenant_id=tenant_id)
    pending_marker_raise(tenant_id=tenant_id)
    pending_marker_clear(tenant_id=tenant_id, generation=seen)
    assert tenant_may_have_pending_events(tenant_id)
