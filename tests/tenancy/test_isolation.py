"""Tenancy is enforced twice: by the fail-closed manager and by PostgreSQL row-level security."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import CompositePrimaryKey

from leadcrm.tenancy.rls import ensure_app_role_sql, tenant_owned_models
from leadcrm.tenancy.scoping import TenantScopeMissing, tenant_scope
from leads.intake import lead_intake
from leads.models import Lead
from tests.conftest import as_owner, make_tenant

pytestmark = pytest.mark.django_db


def _create_lead(created, mobile: str) -> Lead:
    with tenant_scope(created.tenant.id):
        outcome = lead_intake(tenant=created.tenant, payload={"name": "客户", "mobile": mobile}, channel="manual")
        assert outcome.lead is not None
        return outcome.lead


def test_manager_raises_without_a_tenant_in_scope(tenant_a):
    _create_lead(tenant_a, "13912340001")
    with pytest.raises(TenantScopeMissing):
        list(Lead.objects.all())


def test_raw_sql_without_tenant_filter_sees_only_the_scoped_tenant(tenant_a, tenant_b):
    own = _create_lead(tenant_a, "13912340001")
    _create_lead(tenant_b, "13912340002")
    with tenant_scope(tenant_a.tenant.id), connection.cursor() as cursor:
        cursor.execute("SELECT id FROM leads_lead")  # no WHERE tenant_id: RLS must filter
        assert [row[0] for row in cursor.fetchall()] == [own.id]


def test_raw_sql_with_no_tenant_set_sees_nothing(tenant_a):
    _create_lead(tenant_a, "13912340001")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM leads_lead")
        assert cursor.fetchone()[0] == 0


def test_queries_run_as_the_app_role_not_the_owner(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        user, is_super, bypasses = cursor.fetchone()
    assert (user, is_super, bypasses) == ("leadcrm_app", False, False)


def test_writing_a_row_for_another_tenant_is_refused(tenant_a, tenant_b):
    from django.db import DatabaseError, transaction

    with (
        tenant_scope(tenant_a.tenant.id),
        pytest.raises(DatabaseError),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO assignment_pool (tenant_id, name, description, is_default, created_at, updated_at)"
            " VALUES (%s, 'stolen', '', false, now(), now())",
            [tenant_b.tenant.id],
        )


def test_the_app_role_may_not_truncate_which_would_ignore_row_level_security(tenant_a, tenant_b):
    from django.db import ProgrammingError, transaction

    _create_lead(tenant_a, "13912340001")
    _create_lead(tenant_b, "13912340002")
    with (
        tenant_scope(tenant_a.tenant.id),
        pytest.raises(ProgrammingError, match="permission denied"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending foreign-key checks in the way
        cursor.execute("TRUNCATE leads_lead CASCADE")
    with tenant_scope(tenant_b.tenant.id):
        assert Lead.objects.count() == 1


def test_no_table_may_be_truncated_by_the_app_role(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')"
            " AND has_table_privilege(%s, c.oid, 'TRUNCATE') ORDER BY c.relname",
            [settings.DB_APP_ROLE],
        )
        assert cursor.fetchall() == []


def test_granting_the_app_role_again_takes_truncate_away_from_an_older_install(db):
    """An install migrated before the app role lost TRUNCATE loses it at its next migrate."""
    role = settings.DB_APP_ROLE
    with as_owner(), connection.cursor() as cursor:  # as migrate runs
        cursor.execute(f'GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO "{role}"')  # what older installs have
        for statement in ensure_app_role_sql(role):
            cursor.execute(statement)
        cursor.execute("SELECT has_table_privilege(%s, 'leads_lead', 'TRUNCATE')", [role])
        assert cursor.fetchone()[0] is False
        cursor.execute("SELECT has_table_privilege(%s, 'leads_lead', 'DELETE')", [role])
        assert cursor.fetchone()[0] is True


def test_every_tenant_table_has_forced_row_level_security(db):
    tables = [model._meta.db_table for model in tenant_owned_models()]
    assert "leads_lead" in tables
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = ANY(%s)", [tables]
        )
        rows = {name: (enabled, forced) for name, enabled, forced in cursor.fetchall()}
    assert rows == dict.fromkeys(tables, (True, True))


def test_every_tenant_unique_constraint_includes_tenant(db):
    for model in tenant_owned_models():
        for constraint in model._meta.constraints:
            fields = getattr(constraint, "fields", ())
            if fields:
                assert "tenant" in fields, f"{model.__name__}.{constraint.name} lacks tenant"
        for field in model._meta.fields:
            if isinstance(field, CompositePrimaryKey):
                assert field.field_names[0] == "tenant_id", f"{model.__name__}'s primary key does not lead with tenant"
                continue
            assert not (field.unique and field.name != "id"), f"{model.__name__}.{field.name} unique without tenant"


def test_create_tenant_twice_fails_and_changes_nothing(db):
    from django.core.exceptions import ValidationError

    from leadcrm.tenancy.models import Tenant

    make_tenant("dup")
    with pytest.raises(ValidationError):
        make_tenant("dup")
    assert Tenant.objects.filter(slug="dup").count() == 1
