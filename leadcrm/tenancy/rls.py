"""Row-level security for every tenant-owned table.

After each `migrate` (post_migrate), every concrete subclass of TenantOwnedModel gets
ENABLE + FORCE ROW LEVEL SECURITY and one policy comparing `tenant_id` with the
transaction-local setting `app.tenant_id` (set by `tenant_scope()`). A model may widen the
policy with `rls_extra_using` (a user's own memberships, an API key found by its prefix).
Doing this from the model registry rather than per migration means a new tenant table
cannot be forgotten; tests/tenancy/test_rls.py checks every table anyway.

The application runs as DB_APP_ROLE (see settings): it owns nothing, has no BYPASSRLS and is
granted only SELECT, INSERT, UPDATE and DELETE (not TRUNCATE, which RLS does not cover), so the
policies apply even when the connection URL is a superuser's.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import CommandError
from django.db import DatabaseError, connection
from django.db.models.signals import post_migrate

POLICY_NAME = "tenant_isolation"
TENANT_PREDICATE = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint"


def tenant_owned_models() -> list[type[Any]]:
    from leadcrm.models import TenantOwnedModel

    return [
        model
        for model in apps.get_models()
        if issubclass(model, TenantOwnedModel) and not model._meta.abstract and not model._meta.proxy
    ]


def policy_sql(model: type[Any]) -> list[str]:
    table = connection.ops.quote_name(model._meta.db_table)
    predicate = TENANT_PREDICATE
    if extra := getattr(model, "rls_extra_using", ""):
        predicate = f"({predicate}) OR ({extra})"
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS {POLICY_NAME} ON {table}",
        f"CREATE POLICY {POLICY_NAME} ON {table} USING ({predicate}) WITH CHECK ({TENANT_PREDICATE})",
    ]


def ensure_app_role_sql(role: str) -> list[str]:
    quoted = connection.ops.quote_name(role)
    return [
        f"""DO $$ BEGIN
              IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
                CREATE ROLE {quoted} NOLOGIN NOSUPERUSER NOBYPASSRLS;
              END IF;
            END $$""",
        # The migrating user must be able to SET ROLE to the app role.
        f"""DO $$ BEGIN
              IF NOT pg_has_role(current_user, '{role}', 'MEMBER') THEN
                EXECUTE format('GRANT %I TO %I', '{role}', current_user);
              END IF;
            END $$""",
        f"GRANT USAGE ON SCHEMA public TO {quoted}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}",
        # TRUNCATE ignores row-level security: one tenant's request could empty every tenant's
        # table. Installs migrated when it was granted lose it at their next migrate.
        f"REVOKE TRUNCATE ON ALL TABLES IN SCHEMA public FROM {quoted}",
        f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
    ]


def apply_row_level_security(**kwargs: Any) -> None:
    using = kwargs.get("using", "default")
    sender = kwargs.get("sender")
    if sender is not None and getattr(sender, "label", "") != "tenancy":
        return  # post_migrate fires once per app; the work covers all of them at once
    if using != "default" or connection.vendor != "postgresql":
        return
    if connection.settings_dict["OPTIONS"].get("assume_role"):
        return  # running as the app role (e.g. post_migrate after a test flush): nothing to own
    statements: list[str] = []
    if role := settings.DB_APP_ROLE:
        statements += ensure_app_role_sql(role)
    for model in tenant_owned_models():
        statements += policy_sql(model)
    role_statements = len(ensure_app_role_sql(role)) if role else 0
    with connection.cursor() as cursor:
        for number, statement in enumerate(statements):
            try:
                cursor.execute(statement)
            except DatabaseError as error:
                if number >= role_statements:
                    raise
                raise CommandError(_app_role_advice(role, connection.settings_dict.get("USER") or "", error)) from error


def _app_role_advice(role: str, owner: str, error: Exception) -> str:
    return (
        f"Could not create or grant the application role '{role}' as the database user '{owner}': "
        f"{str(error).strip()}\n"
        f"Either let '{owner}' create roles (ALTER ROLE \"{owner}\" CREATEROLE), or create the role once as a "
        f"superuser:\n    CREATE ROLE \"{role}\" NOLOGIN NOSUPERUSER NOBYPASSRLS;\n    GRANT \"{role}\" TO \"{owner}\";\n"
        f"then run migrate again. When DATABASE_URL already logs in as a non-owner role, set DB_APP_ROLE=\"\" instead."
    )


def connect_signals() -> None:
    post_migrate.connect(apply_row_level_security, dispatch_uid="leadcrm_rls")
