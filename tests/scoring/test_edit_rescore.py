"""A hand edit of a field the scoring rules read rescores the lead, through leads' signal, the
scoring receiver and a real Celery worker; an edit of a field no rule reads leaves the score."""

from __future__ import annotations

import time

import pytest

from leadcrm.tenancy.scoping import tenant_scope
from leads.lead_edits import lead_update
from leads.models import Lead
from scoring.models import ScoreChange, ScoreChangeReason
from tests.conftest import make_tenant
from tests.factories import lead_make

pytestmark = pytest.mark.django_db(transaction=True)


def test_editing_a_scored_field_rescores_the_lead_in_the_worker(celery_worker_process):
    created = make_tenant("rescore-edit", with_api_key=False)
    lead = lead_make(created, title="")
    before = lead.score_static
    with tenant_scope(created.tenant.id):  # commits on leaving: the signal is sent after commit
        lead_update(tenant=created.tenant, lead_id=lead.id, membership=None, actor=None, changes={"notes": "来电"})
    with tenant_scope(created.tenant.id):
        lead_update(tenant=created.tenant, lead_id=lead.id, membership=None, actor=None, changes={"title": "技术总监"})

    def rescored() -> Lead:
        with tenant_scope(created.tenant.id):
            return Lead.objects.get(id=lead.id)

    deadline = time.monotonic() + 60
    while rescored().score_static == before and time.monotonic() < deadline:
        assert celery_worker_process.poll() is None, "the worker died"
        time.sleep(0.5)
    assert rescored().score_static > before  # the default rule "decision maker's title" now counts
    with tenant_scope(created.tenant.id):
        reasons = list(ScoreChange.objects.filter(lead_id=lead.id).order_by("at").values_list("reason", flat=True))
    assert reasons[-1] == ScoreChangeReason.EDIT and reasons.count(ScoreChangeReason.EDIT) == 1
