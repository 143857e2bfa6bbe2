"""Shared by the data migrations that rewrite leads (0004, 0006)."""

from typing import Any


def run_per_tenant(schema_editor: Any, sql: str) -> None:
    """Run `sql` (one `%s`: the tenant id) once per tenant with that tenant's RLS setting: the
    owner running migrations is subject to the tables' forced row-level security too."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT id FROM tenancy_tenant")
        for (tenant_id,) in cursor.fetchall():
            cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)])
            cursor.execute(sql, [tenant_id])
        cursor.execute("SELECT set_config('app.tenant_id', '', true)")
