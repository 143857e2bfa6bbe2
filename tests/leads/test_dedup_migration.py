"""Migration 0009: existing leads get exactly the matching keys intake computes, in batches, and
running it again changes nothing; existing tenants get the default rules once."""

from __future__ import annotations

import csv
import importlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection

from leadcrm.tenancy.scoping import tenant_scope
from leads.intake import lead_intake_many
from leads.models import DedupConfig, DedupRule, Lead
from tests.conftest import make_tenant

pytestmark = pytest.mark.django_db

backfill_migration: Any = importlib.import_module("leads.migrations.0009_dedup_backfill")
PAIRS = settings.BASE_DIR.parent / "shared" / "data" / "dedup_pairs.csv"

# Written every way the matcher knows: regions, brackets, legal forms, Traditional characters,
# branches, English, placeholders, honorifics, Latin names.
COMPANIES = [
    "北京纷扬科技有限公司", "纷扬科技（北京）有限公司", "北京市紛揚網絡科技有限公司上海分公司", "四川省成都鼎安餐饮管理有限公司",
    "Fenyang Technology Co., Ltd.", "个人", "无", "（北京）", "北京", "百度网讯科技", "深圳市南山区腾云数据服务有限公司",
    "ABC 科技", "", "HK 港灣物流有限公司", "北京科技有限公司",
]
NAMES = ["王萱强", "王 萱強", "王萱强先生", "陳大文 Peter", "David Wang", "Wang, David", "王总", "", "欧阳娜娜", "CHAN Tai-man"]


def _companies_and_names() -> list[tuple[str, str]]:
    pairs = [(company, name) for company in COMPANIES for name in NAMES[:3]] + [("", name) for name in NAMES]
    if Path(PAIRS).exists():
        with open(PAIRS, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                pairs += [(row["a_company"], row["a_name"]), (row["b_company"], row["b_name"])]
    return pairs


def _run(function: object) -> None:
    function(apps, SimpleNamespace(connection=connection))  # type: ignore[operator]


def test_the_backfill_gives_every_lead_exactly_the_keys_intake_computed():
    created = make_tenant("backfill")
    payloads = [
        {"name": name, "company": company, "email": f"p{n}@kehu-{n}.cn"} for n, (company, name) in enumerate(_companies_and_names())
    ]
    with tenant_scope(created.tenant.id):
        for start in range(0, len(payloads), 500):
            lead_intake_many(tenant=created.tenant, payloads=payloads[start : start + 500], channel="import")
        expected = {lead.id: (lead.company_key, lead.company_brand, lead.name_key) for lead in Lead.objects.all()}
        # what rows written before 0008 hold: no brand, no name key, the old company key
        Lead.objects.update(company_key="old-style key", company_brand="", name_key="")
    assert len(expected) == len(payloads) and any(keys[1] for keys in expected.values())

    backfill_migration.BATCH = 97  # several batches, one ending mid-way
    _run(backfill_migration.backfill)
    with tenant_scope(created.tenant.id):
        stored = {lead.id: (lead.company_key, lead.company_brand, lead.name_key) for lead in Lead.objects.all()}
        assert stored == expected
        updated_at = dict(Lead.objects.values_list("id", "updated_at"))

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_get_xact_tuples_updated('leads_lead'::regclass)")
        before = cursor.fetchone()[0]
    _run(backfill_migration.backfill)  # again: nothing to write
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_get_xact_tuples_updated('leads_lead'::regclass)")
        assert cursor.fetchone()[0] == before
    with tenant_scope(created.tenant.id):
        assert dict(Lead.objects.values_list("id", "updated_at")) == updated_at


def test_existing_tenants_get_the_default_rules_once():
    created = make_tenant("no-rules-yet")
    with tenant_scope(created.tenant.id):
        DedupRule.objects.all().delete()
        DedupConfig.objects.all().delete()
    _run(backfill_migration.install_default_rules)
    _run(backfill_migration.install_default_rules)
    with tenant_scope(created.tenant.id):
        rules = list(DedupRule.objects.order_by("position").values_list("conditions", "compare_with", "window_days", "action"))
        assert DedupConfig.objects.count() == 1
    assert rules == [
        (["mobile"], "leads", 180, "collect"), (["email"], "leads", 180, "collect"),
        (["company", "name"], "leads", 180, "route_to_owner"),
    ]
