"""Two-character Chinese searches go through the bigram index, and existing leads get theirs."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.db import connection

from leadcrm.tenancy.scoping import tenant_scope
from leads.models import Lead
from leads.normalization import search_bigrams, search_text
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


def test_email_is_found_by_its_beginning_and_other_text_still_by_substring(key_client, tenant_a):
    zhang = lead_make(tenant_a, name="张伟", company="Nimbus Tech", email="Zhang.Wei@163.com")
    li = lead_make(tenant_a, name="李娜", company="星云数据", email="lina_2024@qq.com")

    def ids(q: str) -> set[int]:
        return {lead["id"] for lead in key_client.get("/api/v1/leads", {"q": q}).json()["results"]}

    assert ids("zhang.wei@163.com") == {zhang.id}
    assert ids("ZHANG.WEI@") == {zhang.id}
    assert ids("zhang.w") == {zhang.id}
    assert ids("lina_") == {li.id}  # "_" is a character here, not LIKE's wildcard
    assert ids("lin%") == set()
    assert ids("bus te") == {zhang.id}  # company substring, as before
    assert ids(li.mobile[-6:]) == {li.id}
    assert ids("wei@") == set()  # the middle of an address is not its beginning


def test_migration_drops_the_email_from_existing_search_text_as_new_leads_have_it(tenant_a):
    leads = [
        lead_make(tenant_a, name="王 伟", company="北京纷扬", email="wang@163.com", wechat="wx_wang"),
        lead_make(tenant_a, name="", company="", email="only@qq.com"),
        lead_make(tenant_a, name="Li Na", company="Acme", email="", mobile="13912340586"),
    ]
    old_format = {lead.id: " ".join(p for p in (lead.name, lead.company, lead.mobile, lead.email, lead.wechat) if p).lower()
                  for lead in leads}
    with tenant_scope(tenant_a.tenant.id):
        for lead in leads:
            Lead.objects.filter(id=lead.id).update(search_text=old_format[lead.id])
    migration = importlib.import_module("leads.migrations.0006_search_text_without_email")
    migration.backfill(None, SimpleNamespace(connection=connection))
    with tenant_scope(tenant_a.tenant.id):
        for lead in Lead.objects.filter(id__in=[lead.id for lead in leads]):
            assert lead.search_text == search_text(lead.__dict__), lead.name
            assert "@" not in lead.search_text
