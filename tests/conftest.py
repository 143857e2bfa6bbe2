from __future__ import annotations

import functools
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.conf import settings
from django.db import connections
from django.test import TransactionTestCase
from rest_framework.test import APIClient

from leadcrm.tenancy.models import Role
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import CreatedTenant, api_key_create, membership_create, tenant_create, user_get_or_create

PASSWORD = "Correct-Horse-9"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """After the test database is created and migrated as the owner, run every query of the
    code under test as the non-owner app role, exactly as the product runs."""
    for alias in connections:
        connection = connections[alias]
        connection.close()
        if settings.DB_APP_ROLE:
            connection.settings_dict["OPTIONS"]["assume_role"] = settings.DB_APP_ROLE
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            TransactionTestCase, "_fixture_teardown",
            _flushing_as_owner(TransactionTestCase._fixture_teardown),  # type: ignore[attr-defined]  # private, not in the stubs
        )
        yield
    for alias in connections:  # the owner drops the test database
        connections[alias].close()
        connections[alias].settings_dict["OPTIONS"].pop("assume_role", None)


@contextmanager
def as_owner() -> Iterator[None]:
    """The block runs as the owner on every connection that runs as the app role (RESET ROLE
    on the open connection), which then goes back to the app role."""
    switched = [c for c in connections.all() if c.settings_dict["OPTIONS"].get("assume_role")]
    for connection in switched:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
    try:
        yield
    finally:
        for connection in switched:
            with connection.cursor() as cursor:
                cursor.execute(f"SET ROLE {connection.ops.quote_name(connection.settings_dict['OPTIONS']['assume_role'])}")


def _flushing_as_owner(teardown: Callable[[TransactionTestCase], None]) -> Callable[[TransactionTestCase], None]:
    """Transactional tests (live server, worker, races) end with `flush`, i.e. TRUNCATE, which
    the app role may not run (it ignores row-level security): the owner empties the tables."""

    @functools.wraps(teardown)
    def _fixture_teardown(self: TransactionTestCase) -> None:
        with as_owner():
            teardown(self)

    return _fixture_teardown


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    from django.core.cache import cache

    cache.clear()  # rate-limit counters and axes state never leak between tests
    yield


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts in the product's default language, whatever one before it activated."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


def make_tenant(slug: str, *, with_api_key: bool = True) -> CreatedTenant:
    return tenant_create(
        slug=slug, name=f"{slug} 公司", admin_email=f"owner@{slug}.test", admin_password=PASSWORD,
        with_api_key=with_api_key,
    )


@pytest.fixture
def tenant_a(db: None) -> CreatedTenant:
    return make_tenant("tenant-a")


@pytest.fixture
def tenant_b(db: None) -> CreatedTenant:
    return make_tenant("tenant-b")


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def key_client(tenant_a: CreatedTenant) -> APIClient:
    """An API client authenticated with tenant A's all-scopes key."""
    client = APIClient()
    assert tenant_a.api_key is not None
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tenant_a.api_key.raw_key}")
    return client


def client_with_scopes(created: CreatedTenant, scopes: list[str]) -> APIClient:
    key = api_key_create(tenant=created.tenant, name="scoped", scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key.raw_key}")
    return client


def add_member(created: CreatedTenant, email: str, role: str = Role.REP, name: str = "") -> Any:
    user = user_get_or_create(email=email, password=PASSWORD, name=name)
    return membership_create(tenant=created.tenant, user=user, role=role, display_name=name or email)


@pytest.fixture
def in_tenant_a(tenant_a: CreatedTenant) -> Iterator[CreatedTenant]:
    with tenant_scope(tenant_a.tenant.id):
        yield tenant_a


def celery_worker_start(**extra_env: str) -> subprocess.Popen[bytes]:
    """A real worker process against the test database and the configured broker."""
    db = connections["default"].settings_dict
    host = db["HOST"] or "localhost"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "leadcrm.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{host}:{db['PORT'] or 5432}/{db['NAME']}",
        "DB_ASSUME_APP_ROLE": "1",
        **extra_env,
    }
    return subprocess.Popen(  # noqa: S603 - fixed arguments
        [sys.executable, "-m", "celery", "-A", "leadcrm", "worker", "--pool=solo", "--loglevel=WARNING",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        env=env, cwd=settings.BASE_DIR,
    )


@pytest.fixture
def celery_worker_process(transactional_db: None) -> Iterator[subprocess.Popen[bytes]]:
    from leadcrm.celery import app

    app.control.purge()  # tasks that tests without a worker left in the broker name rows long gone
    process = celery_worker_start()
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)
