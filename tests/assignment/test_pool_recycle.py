"""Pool recycle rules: owned leads nobody followed up for the pool's `recycle_after_days` go
back to the pool in the sweep, audited with their own reason, the owner told once."""

from __future__ import annotations

from datetime import timedelta
from threading import Barrier, Thread

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from assignment.followups import follow_up_create
from assignment.models import FollowUp, Pool, Violation
from assignment.sweep import sla_sweep
from leadcrm.notifications.models import Notification
from leadcrm.tenancy.models import AuditLog
from leadcrm.tenancy.scoping import tenant_scope
from leads.models import Lead
from tests.assignment.sla_helpers import assigned_lead, rep_make

pytestmark = pytest.mark.django_db


def days_ago(days: float):
    return timezone.now() - timedelta(days=days)


def _recycling_default_pool(created, days: int | None = 7) -> Pool:
    with tenant_scope(created.tenant.id):
        pool = Pool.objects.get(is_default=True)
        pool.recycle_after_days = days
        pool.save(update_fields=["recycle_after_days"])
    return pool


def _followed_up(created, lead: Lead, *, by_id: int, at) -> None:
    with tenant_scope(created.tenant.id):
        follow_up = follow_up_create(tenant=created.tenant, lead_id=lead.id, by_id=by_id, kind="call", content="电话沟通")
        FollowUp.objects.filter(id=follow_up.id).update(created_at=at)


def test_leads_idle_for_the_pools_days_go_back_audited_and_the_owner_is_told_once(tenant_a):
    rep = rep_make(tenant_a, "rep@a.test")
    pool = _recycling_default_pool(tenant_a, 7)
    idle = assigned_lead(tenant_a, rep.id, at=days_ago(8), company="搁置科技")
    long_ago = assigned_lead(tenant_a, rep.id, at=days_ago(10), company="旧跟进科技")
    _followed_up(tenant_a, long_ago, by_id=rep.id, at=days_ago(9))
    worked = assigned_lead(tenant_a, rep.id, at=days_ago(8), company="勤快科技")
    _followed_up(tenant_a, worked, by_id=rep.id, at=days_ago(2))
    fresh = assigned_lead(tenant_a, rep.id, at=days_ago(3), company="新客科技")
    won = assigned_lead(tenant_a, rep.id, at=days_ago(20), company="成交科技")
    with tenant_scope(tenant_a.tenant.id):
        Lead.objects.filter(id=won.id).update(status="converted")

    first = sla_sweep(tenant=tenant_a.tenant)
    second = sla_sweep(tenant=tenant_a.tenant)

    assert (first.recycled, first.violations, second.recycled) == (2, 0, 0)
    with tenant_scope(tenant_a.tenant.id):
        leads = {lead.id: lead for lead in Lead.objects.all()}
        audits = list(AuditLog.objects.filter(action="lead.owner_change", changes__reason="idle")
                      .values_list("object_id", "changes"))
        statuses = list(AuditLog.objects.filter(action="lead.status_change", changes__reason="idle")
                        .values_list("object_id", flat=True))
        notices = list(Notification.objects.filter(kind="pool.recycle").values_list("recipient_id", "title", "data"))
        assert not Violation.objects.exists()
    for lead in (idle, long_ago):
        back = leads[lead.id]
        assert (back.owner_id, back.status, back.pool_id, back.deadline_at) == (None, "returned", pool.id, None)
    for lead in (worked, fresh, won):
        assert leads[lead.id].owner_id == rep.id
    assert sorted(audits) == sorted([(str(idle.id), {"from": rep.id, "to": None, "reason": "idle"}),
                                     (str(long_ago.id), {"from": rep.id, "to": None, "reason": "idle"})])
    assert sorted(statuses) == sorted([str(idle.id), str(long_ago.id)])
    assert len(notices) == 1
    recipient, title, data = notices[0]
    assert recipient == rep.id and title.startswith("2 条线索长期未跟进") and sorted(data["leads"]) == sorted(
        [idle.id, long_ago.id])


def test_pools_without_a_recycle_rule_keep_idle_leads(tenant_a):
    rep = rep_make(tenant_a, "rep@a.test")
    _recycling_default_pool(tenant_a, None)
    lead = assigned_lead(tenant_a, rep.id, at=days_ago(60))
    assert sla_sweep(tenant=tenant_a.tenant).recycled == 0
    _recycling_default_pool(tenant_a, 0)  # zero: no rule, not "recycle at once"
    assert sla_sweep(tenant=tenant_a.tenant).recycled == 0
    with tenant_scope(tenant_a.tenant.id):
        assert Lead.objects.get(id=lead.id).owner_id == rep.id


def test_the_recycle_is_worded_on_the_lead_timeline_in_chinese_and_english(tenant_a):
    rep = rep_make(tenant_a, "rep@a.test")
    _recycling_default_pool(tenant_a, 7)
    lead = assigned_lead(tenant_a, rep.id, at=days_ago(8))
    sla_sweep(tenant=tenant_a.tenant)
    client = Client()
    client.force_login(tenant_a.owner.user)
    zh = client.get(f"/tenant-a/leads/{lead.id}").content.decode()
    assert zh.count("长期未跟进，按线索池规则收回") == 2  # the owner change and the status change
    assert ">idle<" not in zh
    client.cookies["django_language"] = "en"
    en = client.get(f"/tenant-a/leads/{lead.id}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Not followed up for too long, returned to the pool by its rule" in en


@pytest.mark.django_db(transaction=True)
def test_three_sweeps_at_once_recycle_each_idle_lead_once(tenant_a):
    rep = rep_make(tenant_a, "rep@a.test")
    _recycling_default_pool(tenant_a, 7)
    leads = [assigned_lead(tenant_a, rep.id, at=days_ago(8)) for _ in range(30)]
    barrier = Barrier(3)
    totals: list[int] = []

    def sweep() -> None:
        try:
            barrier.wait()
            totals.append(sla_sweep(tenant=tenant_a.tenant, batch_size=4).recycled)
        finally:
            connection.close()

    threads = [Thread(target=sweep) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(totals) == 30
    with tenant_scope(tenant_a.tenant.id):
        assert AuditLog.objects.filter(action="lead.owner_change", changes__reason="idle").count() == 30
        assert Lead.objects.filter(id__in=[lead.id for lead in leads], owner__isnull=True).count() == 30
