"""Two-character Chinese searches go through the bigram index, and existing leads get theirs."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.db import connection

from leadcrm.tenancy.scoping import tenant_scope
from leads.models import Lead
from leads.normalization import search_bigrams
from tests.factories import lead_make

pytestmark = pytest.mark.django_db


def test_bigrams_are_the_adjacent_chinese_pairs_of_name_and_company():
    pairs = search_bigrams({"name": "王伟", "company": "北京纷扬 Tech 科技(集团)"})
    assert pairs == sorted({"王伟", "北京", "京纷", "纷扬", "科技", "集团"})


def test_two_character_search_finds_names_and_companies_only_as_adjacent_pairs(key_client, tenant_a):
    wang = lead_make(tenant_a, name="王伟", company="上海云启数据有限公司")
    huawei = lead_make(tenant_a, name="李娜", company="华为技术有限公司")
    lead_make(tenant_a, name="王大伟", company="启云数据")

    def ids(q: str) -> set[int]:
        return {lead["id"] for lead in key_client.get("/api/v1/leads", {"q": q}).json()["results"]}

    assert ids("王伟") == {wang.id}
    assert ids("华为") == {huawei.id}
    assert ids("云启") == {wang.id}
    assert ids("有限") == {wang.id, huawei.id}
    assert ids("龘龘") == set()


def test_migration_backfills_the_bigrams_of_existing_leads_as_new_leads_get_them(tenant_a, tenant_b):
    leads = [
        lead_make(tenant_a, name="王伟", company="北京纷扬科技有限公司"),
        lead_make(tenant_a, name="Li Na", company="㐂合 Tech"),
        lead_make(tenant_b, name="张三", company=""),
    ]
    expected = {lead.id: search_bigrams({"name": lead.name, "company": lead.company}) for lead in leads}
    for created in (tenant_a, tenant_b):
        with tenant_scope(created.tenant.id):
            Lead.objects.update(search_bigrams=[])
    migration = importlib.import_module("leads.migrations.0004_search_bigrams")
    migration.backfill(None, SimpleNamespace(connection=connection))
    for created in (tenant_a, tenant_b):
        with tenant_scope(created.tenant.id):
            for lead in Lead.objects.all():
                assert lead.search_bigrams == expected[lead.id], lead.name
