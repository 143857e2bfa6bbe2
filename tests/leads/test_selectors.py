"""Reads behind the lead list's header and filters: the count, source suggestions, names."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leadcrm.tenancy.models import Role
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import membership_create, user_get_or_create
from leads.intake import lead_intake_many
from leads.models import Lead
from leads.selectors import LeadCount, lead_count, lead_source_suggestions, owner_labels
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _leads(created, sources: list[str]) -> None:
    payloads = [{"name": f"客户{i}", "mobile": f"139{20_583_000 + 7 * i:08d}", "source": s} for i, s in enumerate(sources)]
    with tenant_scope(created.tenant.id):
        lead_intake_many(tenant=created.tenant, payloads=payloads, channel="api")


def test_count_is_exact_up_to_the_cap_and_more_than_past_it(tenant_a):
    _leads(tenant_a, ["官网"] * 7)
    with tenant_scope(tenant_a.tenant.id):
        assert lead_count(queryset=Lead.objects.all()) == LeadCount(value=7, kind="exact")
        assert lead_count(queryset=Lead.objects.filter(source="抖音")) == LeadCount(value=0, kind="exact")
        # past the cap, and PostgreSQL's estimate for a handful of rows is within it
        assert lead_count(queryset=Lead.objects.all(), cap=5) == LeadCount(value=5, kind="more_than")


def _analyze() -> None:
    with connection.cursor() as cursor:  # statistics, as autovacuum would gather them (the owner may)
        cursor.execute(f"RESET ROLE; ANALYZE leads_lead; SET ROLE {settings.DB_APP_ROLE}")


def test_count_past_the_cap_gives_the_estimate_when_it_is_larger(tenant_a):
    _leads(tenant_a, ["官网"] * 30)
    with tenant_scope(tenant_a.tenant.id):
        _analyze()
        count = lead_count(queryset=Lead.objects.all(), cap=20)  # counted past the cap: the estimate (30)
    assert count == LeadCount(value=30, kind="about")


def test_an_estimate_far_past_the_cap_is_not_counted(tenant_a):
    _leads(tenant_a, ["官网"] * 30)
    with tenant_scope(tenant_a.tenant.id):
        _analyze()
        with CaptureQueriesContext(connection) as queries:
            count = lead_count(queryset=Lead.objects.all(), cap=2)
    assert count == LeadCount(value=30, kind="about")
    assert [q["sql"] for q in queries if "count(" in q["sql"].lower()] == []


def test_a_count_that_takes_too_long_gives_up_and_leaves_the_page_working(tenant_a):
    _leads(tenant_a, ["官网"] * 3)
    with tenant_scope(tenant_a.tenant.id):
        slow = Lead.objects.extra(where=["pg_sleep(0.05) IS NOT NULL"])  # 50 ms a row
        assert lead_count(queryset=slow, timeout_ms=20, cap=2) is None
        # the transaction goes on, with the server's own timeout back
        assert Lead.objects.count() == 3
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone()[0] == "0"


def test_source_suggestions_are_the_tenants_own_values_most_used_first(tenant_a, tenant_b):
    _leads(tenant_a, ["客户转介绍", "官网", "客户转介绍", "展会", "客户转介绍", "官网", ""])
    _leads(tenant_b, ["别家的来源"] * 5)
    with tenant_scope(tenant_a.tenant.id):
        assert lead_source_suggestions() == ["客户转介绍", "官网", "展会"]
    with tenant_scope(tenant_b.tenant.id):
        assert lead_source_suggestions() == ["别家的来源"]


def test_owner_labels_name_people_and_keep_the_address_for_a_tooltip(tenant_a, tenant_b):
    named = user_get_or_create(email="wang.fang@tenant-a.test", password=PASSWORD)
    membership_create(tenant=tenant_a.tenant, user=named, role=Role.REP, display_name="王芳")
    unnamed = user_get_or_create(email="li.qiang@tenant-a.test", password=PASSWORD)
    membership_create(tenant=tenant_a.tenant, user=unnamed, role=Role.REP)
    former = user_get_or_create(email="left.us@tenant-b.test", password=PASSWORD, name="Former")  # not a member
    with tenant_scope(tenant_a.tenant.id):
        labels = owner_labels(user_ids={named.id, unnamed.id, former.id})
    assert (labels[named.id].name, labels[named.id].email) == ("王芳", "wang.fang@tenant-a.test")
    assert (labels[unnamed.id].name, labels[unnamed.id].email) == ("li.qiang", "li.qiang@tenant-a.test")
    assert labels[former.id].name == "Former"
