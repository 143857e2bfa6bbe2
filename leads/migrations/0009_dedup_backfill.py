"""Existing leads get the matching keys intake now computes (`company_key` becomes the company's
core, `company_brand` and `name_key` are new), then the index the duplicate look-up uses; every
existing tenant gets API.md's default duplicate rules.

The keys are defined by the pure matcher (leads.matching, through leads.normalization.match_keys),
so this imports them rather than a copy: the point is that stored keys equal what intake
computes for the same text. If the
matcher's keys change later, a new migration re-runs `backfill` (it writes only rows whose keys
differ, tenant by tenant, in batches by id, so it can be interrupted and run again).
"""

import django.db.models
from django.db import migrations

BATCH = 5000
_SELECT = """
SELECT id, company, name, company_key, company_brand, name_key FROM leads_lead
WHERE tenant_id = %s AND id > %s ORDER BY id LIMIT %s
"""
_UPDATE = """
UPDATE leads_lead AS l SET company_key = v.company_key, company_brand = v.company_brand, name_key = v.name_key
FROM jsonb_to_recordset(%s::jsonb) AS v(id bigint, company_key text, company_brand text, name_key text)
WHERE l.tenant_id = %s AND l.id = v.id
"""

# API.md "Defaults of a new tenant", as leads.dedup_rules.DEFAULT_RULES held them when this was written.
DEFAULT_RULES = (
    ("手机号相同（180 天内）", ["mobile"], "leads", 180, "collect"),
    ("邮箱相同（180 天内）", ["email"], "leads", 180, "collect"),
    ("公司相同且联系人相同（180 天内）", ["company", "name"], "leads", 180, "route_to_owner"),
)


def _keys(company, name):
    from leads.normalization import match_keys

    keys = match_keys({"company": company, "name": name})
    return keys["company_key"], keys["company_brand"], keys["name_key"]


def backfill(apps, schema_editor):
    import json

    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT id FROM tenancy_tenant ORDER BY id")
        for (tenant_id,) in cursor.fetchall():
            # The owner running migrations is subject to the tables' forced row-level security.
            cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)])
            last_id = 0
            while True:
                cursor.execute(_SELECT, [tenant_id, last_id, BATCH])
                rows = cursor.fetchall()
                if not rows:
                    break
                last_id = rows[-1][0]
                changed = []
                for lead_id, company, name, company_key, brand, name_key in rows:
                    keys = _keys(company, name)
                    if keys != (company_key, brand, name_key):
                        changed.append({"id": lead_id, "company_key": keys[0], "company_brand": keys[1], "name_key": keys[2]})
                if changed:
                    cursor.execute(_UPDATE, [json.dumps(changed, ensure_ascii=False), tenant_id])
        cursor.execute("SELECT set_config('app.tenant_id', '', true)")


def install_default_rules(apps, schema_editor):
    Tenant = apps.get_model("tenancy", "Tenant")
    DedupConfig = apps.get_model("leads", "DedupConfig")
    DedupRule = apps.get_model("leads", "DedupRule")
    with schema_editor.connection.cursor() as cursor:
        for tenant_id in Tenant._default_manager.order_by("id").values_list("id", flat=True):
            cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)])
            if DedupConfig._default_manager.filter(tenant_id=tenant_id).exists():
                continue  # configured already (a second run)
            DedupConfig._default_manager.create(tenant_id=tenant_id, version=1)
            for position, (name, conditions, compare_with, window_days, action) in enumerate(DEFAULT_RULES, start=1):
                DedupRule._default_manager.create(
                    tenant_id=tenant_id, position=position, name=name, conditions=conditions, compare_with=compare_with,
                    window_days=window_days, action=action, is_active=True,
                )
        cursor.execute("SELECT set_config('app.tenant_id', '', true)")


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0008_dedup_rules'),
        ('tenancy', '0001_initial'),
    ]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.RunPython(install_default_rules, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='lead',
            index=django.db.models.Index(
                condition=django.db.models.Q(('company_brand', ''), _negated=True),
                fields=['tenant', 'company_brand', 'name_key'], name='lead_tenant_brand_name_idx',
            ),
        ),
    ]
