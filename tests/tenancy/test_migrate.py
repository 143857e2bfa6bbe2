"""`manage.py migrate` on a fresh server just works with the owner's URL, and says what to do
when the owner may not create the application role."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from django.conf import settings
from django.db import connection


def _admin() -> psycopg.Connection[tuple[object, ...]]:
    db = connection.settings_dict
    return psycopg.connect(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"],
                           dbname="postgres", autocommit=True)


@pytest.fixture
def fresh_database() -> Iterator[dict[str, str]]:
    """An empty database and the name of an application role that does not exist yet."""
    suffix = uuid.uuid4().hex[:8]
    names = {"database": f"leadcrm_fresh_{suffix}", "app_role": f"leadcrm_app_{suffix}", "owner": f"owner_{suffix}"}
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{names["database"]}"')
    yield names
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{names["database"]}" WITH (FORCE)')
        for role in (names["app_role"], names["owner"]):
            exists = admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone()
            if exists:
                admin.execute(f'DROP ROLE "{role}"')


def _migrate(url: str, app_role: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in {"DB_RUN_AS_OWNER", "DB_ASSUME_APP_ROLE"}}
    env.update(DATABASE_URL=url, DB_APP_ROLE=app_role, DJANGO_SETTINGS_MODULE="leadcrm.settings.local")
    return subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], env=env, cwd=settings.BASE_DIR,
        capture_output=True, text=True, timeout=300,
    )


def _url(user: str, database: str) -> str:
    db = connection.settings_dict
    return f"postgres://{user}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{database}"


def test_plain_migrate_creates_the_app_role_and_the_schema_on_a_fresh_server(fresh_database):
    result = _migrate(_url(connection.settings_dict["USER"], fresh_database["database"]), fresh_database["app_role"])
    assert result.returncode == 0, result.stderr
    with _admin() as admin:
        role = admin.execute(
            "SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = %s", [fresh_database["app_role"]]
        ).fetchone()
    assert role == (False, False, False)
    db = connection.settings_dict
    with psycopg.connect(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"],
                         dbname=fresh_database["database"]) as conn:
        forced = conn.execute("SELECT relforcerowsecurity FROM pg_class WHERE relname = 'leads_lead'").fetchone()
        assert forced == (True,)
        privileges = conn.execute(
            "SELECT privilege_type FROM information_schema.role_table_grants WHERE grantee = %s AND table_name = %s",
            [fresh_database["app_role"], "leads_lead"],
        ).fetchall()
        assert {"SELECT", "INSERT", "UPDATE", "DELETE"} <= {p for (p,) in privileges}


def test_migrate_says_what_to_do_when_the_owner_may_not_create_the_app_role(fresh_database):
    with _admin() as admin:
        admin.execute(f'CREATE ROLE "{fresh_database["owner"]}" LOGIN NOCREATEROLE NOSUPERUSER')
        admin.execute(f'ALTER DATABASE "{fresh_database["database"]}" OWNER TO "{fresh_database["owner"]}"')
    result = _migrate(_url(fresh_database["owner"], fresh_database["database"]), fresh_database["app_role"])
    assert result.returncode != 0
    message = result.stderr
    assert f"Could not create or grant the application role '{fresh_database['app_role']}'" in message
    assert "CREATE ROLE" in message and "DB_APP_ROLE" in message
    assert "Traceback" not in message  # an operator gets advice, not a stack
