"""The demo tenant (`seed_demo`): what someone starting the product for the first time sees."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from io import StringIO

import phonenumbers
import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone

from assignment.models import Pool
from demo.seed import ADMIN_EMAIL, ADMIN_PASSWORD, DEMO_SLUG, MANAGER_EMAIL, STAFF_PASSWORD, demo_seed
from leadcrm.tenancy.models import ApiKey, AuditLog, Membership, Role, Tenant
from leadcrm.tenancy.scoping import tenant_scope
from leads.models import IntakeRecord, Lead, LeadStatus, LeadSubmission
from leads.normalization import company_key, search_text
from scoring.engine import score_compute
from scoring.models import LeadEvent
from scoring.services import lead_attributes, lead_score_explain, rules_field_names, rules_published

pytestmark = pytest.mark.django_db

N = 200


def _snapshot(tenant: Tenant) -> dict[str, object]:
    with tenant_scope(tenant.id):
        return {
            "leads": sorted(Lead.objects.values_list("id", "updated_at")),
            "memberships": Membership.objects.count(),
            "keys": ApiKey.objects.count(),
            "pools": Pool.objects.count(),
            "intake": IntakeRecord.objects.count(),
            "submissions": LeadSubmission.objects.count(),
            "audit": AuditLog.objects.count(),
            "users": User.objects.count(),
        }


def test_demo_tenant_has_staff_pools_and_realistic_leads(client):
    before = timezone.now()
    result = demo_seed(leads=N, seed=7)
    assert result.created
    tenant = Tenant.objects.get(slug=DEMO_SLUG)
    assert tenant.name == "演示科技有限公司" and result.tenant == tenant

    with tenant_scope(tenant.id):
        reps = list(Membership.objects.filter(role=Role.REP).select_related("user"))
        assert 6 <= len(reps) <= 8
        assert all(m.team and re.search(r"[\u4e00-\u9fff]", m.display_name) for m in reps)
        assert Membership.objects.filter(role=Role.MANAGER, user__email=MANAGER_EMAIL).exists()
        assert Membership.objects.filter(role=Role.OWNER, user__email=ADMIN_EMAIL).exists()
        assert {"公海池", "华东线索池", "展会线索池"} <= set(Pool.objects.values_list("name", flat=True))

        leads = list(Lead.objects.all())
        rules = rules_published(tenant_id=tenant.id)
        assert rules is not None
        assert len(leads) == N
        for lead in leads:
            if lead.mobile:  # the showcase's duplicate came with an e-mail only
                number = phonenumbers.parse(lead.mobile)
                assert re.fullmatch(r"\+861[3-9]\d{9}", lead.mobile) and phonenumbers.is_valid_number(number)
            assert lead.province.endswith(("省", "市", "自治区")) and lead.city, (lead.mobile, lead.province)
            assert lead.company_key == (company_key(lead.company) if lead.company else "")
            assert lead.search_text == search_text(lead.__dict__)
            assert lead.pool_id is not None
            if lead.owner_id:
                assert lead.owner_assigned_at is not None and lead.owner_assigned_at >= lead.created_at
            # scored by the engine with the tenant's published rules, nothing made up
            assert lead.scored_at is not None and lead.score_version == 1
            expected = score_compute(
                rules=rules, attributes=lead_attributes(lead, rules_field_names(rules)), events=(), now=lead.scored_at
            )
            assert lead.score_static == expected.static and lead.grade == expected.grade
            # ... and with the events the demo sent: the explanation adds up to the stored score
            explained = lead_score_explain(lead=lead)
            assert explained is not None and explained.total == lead.score_total, lead.id
        tiers = Counter(lead.tier for lead in leads)
        assert tiers["hot"] >= 3 and tiers["warm"] >= 10 and tiers["cold"] >= N * 0.3, tiers
        assert LeadEvent.objects.filter(status="attached", flag="").count() > N
        assert LeadEvent.objects.filter(type="unsubscribe").exists()

        assert len({lead.mobile for lead in leads if lead.mobile}) == N - 1
        assert len({lead.source for lead in leads}) >= 6
        channels = {"官网", "抖音", "展会", "公众号", "百度推广", "线下活动", "客户转介绍", "知乎"}
        assert {lead.source for lead in leads} <= channels
        assert len({lead.province for lead in leads}) >= 10
        assert any(lead.utm_source for lead in leads) and any(lead.email for lead in leads)
        assert sum(1 for lead in leads if "有限公司" in lead.company) > N * 0.8

        rep_ids = {m.user_id for m in reps}
        owned = [lead for lead in leads if lead.owner_id]
        assert {lead.owner_id for lead in owned} <= rep_ids
        assert 0.45 * N <= len(owned) <= 0.85 * N
        statuses = {lead.status for lead in leads}
        assert {LeadStatus.PENDING, LeadStatus.FOLLOWING, LeadStatus.CONVERTED, LeadStatus.INVALID} <= statuses
        assert all(lead.owner_id is None for lead in leads if lead.status == LeadStatus.RETURNED)

        # Every timestamp the demo wrote lies in the past (a lead "active in ten minutes" was a bug).
        now = timezone.now()
        created = [lead.created_at for lead in leads]
        assert max(created) <= before and min(created) >= now - timedelta(days=181)
        assert min(created) < now - timedelta(days=90)  # spread out, not all "just now"
        for queryset, columns in ((Lead.objects, ("created_at", "updated_at", "owner_assigned_at", "last_activity_at")),
                                  (AuditLog.objects.filter(object_type="lead"), ("created_at",)),
                                  (LeadSubmission.objects, ("created_at",)), (IntakeRecord.objects, ("created_at",))):
            for column in columns:
                assert not queryset.filter(**{f"{column}__gt": before}).exists(), (queryset.model.__name__, column)

        # The history came from the services that write it: each lead's current owner and status
        # is the last audited change, in time order, and each change starts where the last ended.
        history = AuditLog.objects.filter(object_type="lead").order_by("created_at", "id")
        last_owner: dict[str, object] = {}
        last_status: dict[str, object] = {}
        for entry in history:
            if entry.action == "lead.owner_change":
                if entry.object_id in last_owner:
                    assert entry.changes["from"] == last_owner[entry.object_id]
                last_owner[entry.object_id] = entry.changes["to"]
            elif entry.action == "lead.status_change":
                assert entry.changes["from"] == last_status.get(entry.object_id, LeadStatus.PENDING)
                last_status[entry.object_id] = entry.changes["to"]
        for lead in leads:
            assert last_owner.get(str(lead.id)) == lead.owner_id, lead.id
            assert last_status.get(str(lead.id), LeadStatus.PENDING) == lead.status, lead.id
        invalid = AuditLog.objects.filter(action="lead.status_change", changes__to="invalid")
        assert invalid.exists() and all(entry.changes["reason"] for entry in invalid)

        reasons = {reason for record in IntakeRecord.objects.all() for reason in record.reasons}
        assert IntakeRecord.objects.count() >= 15
        assert {"no_contact", "invalid.mobile", "invalid.email", "sensitive_word"} <= reasons
        assert {"blacklist.phone", "blacklist.email_domain"} <= reasons  # the demo's 清洗规则 at work
        assert LeadSubmission.objects.exists()  # re-submissions collected (归集) into their leads
        # day-one set-up: the website's form and views of the list, one shared with everyone
        from capture.models import WebForm
        from leads.models import SavedView

        assert WebForm.objects.filter(is_active=True, source="官网").count() == 1
        assert SavedView.objects.filter(shared_with="tenant").count() == 1 and SavedView.objects.count() == 2

    # the printed log-ins work
    assert User.objects.get(email=ADMIN_EMAIL).check_password(ADMIN_PASSWORD)
    assert all(m.user.check_password(STAFF_PASSWORD) for m in reps)
    assert result.api_key and result.api_key.startswith("lc_")
    response = client.get("/api/v1/leads", HTTP_AUTHORIZATION=f"Bearer {result.api_key}")
    assert response.status_code == 200 and response.json()["results"]


def test_demo_writes_leads_only_through_the_intake_pipeline():
    """Nothing in the demo inserts leads, history or timestamps behind the services' backs."""
    import inspect

    import demo.seed

    source = inspect.getsource(demo.seed)
    for forbidden in ("connection.cursor", "insert_many", "bulk_create", ".objects.create(", ".update(created_at",
                      "Lead(", "AuditLog"):
        assert forbidden not in source, forbidden


def test_seeding_twice_changes_nothing():
    first = demo_seed(leads=50, seed=1)
    before = _snapshot(first.tenant)
    second = demo_seed(leads=80, seed=2)
    assert not second.created and second.api_key is None
    assert second.tenant == first.tenant and Tenant.objects.filter(slug=DEMO_SLUG).count() == 1
    assert _snapshot(first.tenant) == before
    assert [login.email for login in second.logins] == [login.email for login in first.logins]


def test_command_prints_the_log_ins_every_time():
    out = StringIO()
    call_command("seed_demo", "--leads", "40", stdout=out)
    text = out.getvalue()
    assert f"{ADMIN_EMAIL} / {ADMIN_PASSWORD}" in text
    assert f"rep1@demo.leadcrm.local / {STAFF_PASSWORD}" in text and f"{MANAGER_EMAIL} / {STAFF_PASSWORD}" in text
    assert re.search(r"lc_[0-9a-f]{12}_\S+", text)

    again = StringIO()
    call_command("seed_demo", stdout=again)
    assert "already exists" in again.getvalue() and f"{ADMIN_EMAIL} / {ADMIN_PASSWORD}" in again.getvalue()
    assert not re.search(r"lc_[0-9a-f]{12}_\S+", again.getvalue())
    with tenant_scope(Tenant.objects.get(slug=DEMO_SLUG).id):
        assert Lead.objects.count() == 40


def test_same_seed_same_leads():
    now = timezone.now()

    def book(seed: int, run: int) -> list[tuple[str, str, str, str]]:
        tenant = demo_seed(leads=30, seed=seed, now=now).tenant
        with tenant_scope(tenant.id):
            rows = list(Lead.objects.order_by("created_at", "mobile").values_list("name", "mobile", "company", "status"))
        Tenant.objects.filter(id=tenant.id).update(slug=f"demo-run-{run}")  # the next run seeds afresh
        return rows

    assert book(5, 1) == book(5, 2)
    assert book(5, 3) != book(6, 4)
