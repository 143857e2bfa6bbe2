"""Owner, pool and status changes: the services every assignment, claim, return and status
action goes through, each change audited and on the lead's timeline."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from assignment.selectors import pool_default
from assignment.services import pool_create
from leadcrm.tenancy.models import AuditLog, Role
from leadcrm.tenancy.scoping import tenant_scope
from leads.intake import lead_intake_many
from leads.models import IntakeRecord, Lead, LeadStatus, LeadSubmission, OwnerChangeReason
from leads.services import (
    InvalidTransition,
    OwnerChange,
    PoolPlacement,
    StatusChange,
    lead_owner_change_many,
    lead_pool_place_many,
    lead_status_change_many,
)
from tests.conftest import add_member
from tests.factories import lead_make, next_mobile

pytestmark = pytest.mark.django_db


def _history(lead: Lead) -> list[tuple[str, dict[str, object]]]:
    entries = AuditLog.objects.filter(object_type="lead", object_id=str(lead.id)).order_by("created_at", "id")
    return [(entry.action, entry.changes) for entry in entries]


def test_owner_changes_are_applied_in_order_and_each_audited_with_where_it_came_from(tenant_a):
    rep1 = add_member(tenant_a, "rep1@a.test", role=Role.REP)
    rep2 = add_member(tenant_a, "rep2@a.test", role=Role.REP)
    lead, other = lead_make(tenant_a), lead_make(tenant_a)
    earlier = timezone.now() - timedelta(hours=2)
    with tenant_scope(tenant_a.tenant.id):
        changed = lead_owner_change_many(
            tenant=tenant_a.tenant, reason=OwnerChangeReason.MANUAL, actor=tenant_a.owner.user,
            changes=[
                OwnerChange(lead_id=lead.id, owner_id=rep1.user_id, at=earlier),
                OwnerChange(lead_id=lead.id, owner_id=rep2.user_id, at=earlier + timedelta(minutes=5)),
                OwnerChange(lead_id=other.id, owner_id=rep1.user_id),
                OwnerChange(lead_id=999_999_999, owner_id=rep1.user_id),  # gone: skipped
            ],
        )
        assert changed == 2
        lead.refresh_from_db()
        other.refresh_from_db()
        assert lead.owner_id == rep2.user_id and lead.owner_assigned_at == earlier + timedelta(minutes=5)
        assert other.owner_id == rep1.user_id
        assert _history(lead) == [
            ("lead.owner_change", {"from": None, "to": rep1.user_id, "reason": "manual"}),
            ("lead.owner_change", {"from": rep1.user_id, "to": rep2.user_id, "reason": "manual"}),
        ]
        assert AuditLog.objects.filter(object_type="lead", object_id=str(lead.id), actor=tenant_a.owner.user).count() == 2


def test_unknown_owner_change_reason_is_refused_and_changes_nothing(tenant_a):
    rep = add_member(tenant_a, "rep@a.test", role=Role.REP)
    lead = lead_make(tenant_a)
    with tenant_scope(tenant_a.tenant.id):
        with pytest.raises(ValidationError, match="Unknown reason"):
            lead_owner_change_many(tenant=tenant_a.tenant, reason="because",
                                   changes=[OwnerChange(lead_id=lead.id, owner_id=rep.user_id)])
        lead.refresh_from_db()
        assert lead.owner_id is None and _history(lead) == []


def test_status_follows_the_allowed_transitions_and_a_wrong_one_changes_no_lead(tenant_a):
    lead, other = lead_make(tenant_a), lead_make(tenant_a)
    with tenant_scope(tenant_a.tenant.id):
        lead_status_change_many(tenant=tenant_a.tenant, changes=[
            StatusChange(lead_id=lead.id, status=LeadStatus.FOLLOWING),
            StatusChange(lead_id=lead.id, status=LeadStatus.CONVERTED, reason="已签约"),
        ])
        lead.refresh_from_db()
        assert lead.status == LeadStatus.CONVERTED
        assert [changes for _, changes in _history(lead)] == [
            {"from": "pending", "to": "following", "reason": ""},
            {"from": "following", "to": "converted", "reason": "已签约"},
        ]
        # converted → following is not a transition; the valid change in the same call is not applied either
        with pytest.raises(InvalidTransition, match="'converted'; it cannot become 'following'"):
            lead_status_change_many(tenant=tenant_a.tenant, changes=[
                StatusChange(lead_id=other.id, status=LeadStatus.FOLLOWING),
                StatusChange(lead_id=lead.id, status=LeadStatus.FOLLOWING),
            ])
    with tenant_scope(tenant_a.tenant.id):
        other.refresh_from_db()
        assert other.status == LeadStatus.PENDING and _history(other) == []


def test_invalid_and_voided_need_a_reason(tenant_a):
    lead = lead_make(tenant_a)
    with tenant_scope(tenant_a.tenant.id):
        with pytest.raises(ValidationError, match="reason is required"):
            lead_status_change_many(tenant=tenant_a.tenant, changes=[StatusChange(lead_id=lead.id, status="invalid")])
        lead.refresh_from_db()
        assert lead.status == LeadStatus.PENDING


def test_pool_placement_keeps_the_owner_and_is_audited(tenant_a):
    rep = add_member(tenant_a, "rep@a.test", role=Role.REP)
    lead = lead_make(tenant_a)
    with tenant_scope(tenant_a.tenant.id):
        lead_owner_change_many(tenant=tenant_a.tenant, reason=OwnerChangeReason.ASSIGNMENT_RULE,
                               changes=[OwnerChange(lead_id=lead.id, owner_id=rep.user_id)])
        default = pool_default()
        assert lead.pool_id == default.id  # intake put it there
        pool = pool_create(tenant=tenant_a.tenant, name="华东池")
        lead_pool_place_many(tenant=tenant_a.tenant, placements=[PoolPlacement(lead_id=lead.id, pool_id=pool.id)])
        lead.refresh_from_db()
        assert (lead.owner_id, lead.pool_id) == (rep.user_id, pool.id)
        assert _history(lead)[-1] == ("lead.pool_change", {"from": default.id, "to": pool.id})


def test_intake_keeps_the_time_a_submission_arrived_for_leads_collections_and_quarantine(tenant_a):
    mobile = next_mobile()
    then = timezone.now() - timedelta(days=30)
    with tenant_scope(tenant_a.tenant.id):
        outcomes = lead_intake_many(
            tenant=tenant_a.tenant, channel="import",
            payloads=[{"name": "甲", "mobile": mobile}, {"name": "甲", "mobile": mobile}, {"name": "无联系方式"}],
            received_at=[then, then + timedelta(days=1), then + timedelta(days=2)],
        )
        assert [o.outcome for o in outcomes] == ["created", "merged", "quarantined"]
        assert outcomes[0].lead is not None
        lead = Lead.objects.get(id=outcomes[0].lead.id)
        assert lead.created_at == then
        assert LeadSubmission.objects.get(lead=lead).created_at == then + timedelta(days=1)
        assert IntakeRecord.objects.get().created_at == then + timedelta(days=2)
        with pytest.raises(ValueError, match="one time per payload"):
            lead_intake_many(tenant=tenant_a.tenant, channel="import", payloads=[{"mobile": next_mobile()}],
                             received_at=[])


def test_the_lead_page_words_its_history_for_people(client, tenant_a):
    rep = add_member(tenant_a, "rep@a.test", role=Role.REP, name="王芳")
    lead = lead_make(tenant_a)
    with tenant_scope(tenant_a.tenant.id):
        lead_pool_place_many(tenant=tenant_a.tenant, placements=[PoolPlacement(lead_id=lead.id, pool_id=pool_default().id)])
        lead_owner_change_many(tenant=tenant_a.tenant, reason=OwnerChangeReason.ASSIGNMENT_RULE,
                               changes=[OwnerChange(lead_id=lead.id, owner_id=rep.user_id)])
        lead_status_change_many(tenant=tenant_a.tenant, changes=[StatusChange(lead_id=lead.id, status="invalid",
                                                                             reason="空号")])
    client.force_login(tenant_a.owner.user)
    page = client.get(f"/{tenant_a.tenant.slug}/leads/{lead.id}").content.decode()
    for words in ("进入线索池「公海池」", "分配给 王芳", "按分配规则分配", "状态变为「无效」", "空号"):
        assert words in page
    assert "assignment_rule" not in page and "lead.owner_change" not in page
    client.cookies["django_language"] = "en"
    page = client.get(f"/{tenant_a.tenant.slug}/leads/{lead.id}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "assignment_rule" not in page
    for words in ("Entered the pool “公海池”", "By an assignment rule", "Status changed to “Invalid”"):
        assert words in page
