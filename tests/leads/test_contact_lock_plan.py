"""The contact locks' release stays an index probe per key however many dead lock rows the
table holds: it is emptied only by (auto)vacuum, and intake's statements run prepared, so
PostgreSQL soon plans them once for any parameters (a generic plan)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction

from leadcrm.db import _native_placeholders, joined_ints
from leadcrm.tenancy.scoping import tenant_scope
from leads.intake.dedup import _CONTACT_LOCK_SQL, _CONTACT_UNLOCK_SQL, contact_lock_keys
from tests.conftest import make_tenant
from tests.plans import plan_nodes

CHURNED = 20_000  # lock rows taken and released before, left dead in the table


@pytest.mark.django_db(transaction=True)
def test_releasing_locks_reads_only_their_keys_under_a_generic_plan():
    tenant = make_tenant("locks").tenant
    churn = contact_lock_keys({f"mobile:+86139{n:08d}" for n in range(CHURNED)})
    params: dict[str, Any] = {"tenant_id": tenant.id, "lock_keys": joined_ints(churn)}
    with tenant_scope(tenant.id), connection.cursor() as cursor:
        cursor.execute(_CONTACT_LOCK_SQL, params)
    with tenant_scope(tenant.id), connection.cursor() as cursor:
        cursor.execute(_CONTACT_UNLOCK_SQL, params)  # committed: CHURNED dead rows of this tenant

    mine = contact_lock_keys({"mobile:+8613912345678", "email:wang@example.cn", "company_name:纷扬\x1f王"})
    unlock, names = _native_placeholders(_CONTACT_UNLOCK_SQL)
    values: dict[str, Any] = {"tenant_id": tenant.id, "lock_keys": joined_ints(mine)}
    types = {"tenant_id": "bigint", "lock_keys": "text"}
    assert names is not None
    with tenant_scope(tenant.id), connection.cursor() as cursor:
        cursor.execute(_CONTACT_LOCK_SQL, values)
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute(f"PREPARE unlock_plan({', '.join(types[name] for name in names)}) AS {unlock}")
        try:
            cursor.execute(
                f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE unlock_plan({', '.join(['%s'] * len(names))})",
                [values[name] for name in names],
            )
            (explained,) = cursor.fetchone()
        finally:
            cursor.execute("DEALLOCATE unlock_plan")
        transaction.set_rollback(True)
    nodes = plan_nodes(explained)
    scans = [node for node in nodes if "Scan" in node["Node Type"] and "Function" not in node["Node Type"]
             and node.get("Relation Name", "leads_contactlock") == "leads_contactlock"]
    assert scans, nodes
    assert sum(node["Actual Rows"] * node.get("Actual Loops", 1) for node in scans) <= 10 * len(mine), nodes
