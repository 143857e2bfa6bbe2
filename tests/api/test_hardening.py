"""The API's transport edges: bodies however they are framed, nesting, unknown routes and
methods, unavailable services, caching headers. Some run through a real gunicorn."""

from __future__ import annotations

import http.client
import io
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings
from rest_framework.test import APIClient

from leadcrm.tenancy.scoping import tenant_scope
from leads.models import Lead
from tests.conftest import make_tenant

PROBLEM = "application/problem+json"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- a real WSGI server -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def gunicorn_port(django_db_setup: None) -> Iterator[int]:
    """gunicorn serving the app against the test database, as the app role (as in production)."""
    db = connection.settings_dict
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "leadcrm.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}",
        "DB_ASSUME_APP_ROLE": "1",
    }
    process = subprocess.Popen(  # noqa: S603 - fixed arguments
        [sys.executable, "-m", "gunicorn", "leadcrm.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--threads", "2", "--log-level", "warning"],
        env=env, cwd=settings.BASE_DIR,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, "gunicorn exited"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start in 30 s"
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def _chunks(body: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start:start + size]


def gunicorn_request(
    port: int, method: str, path: str, *, key: str, body: bytes | None = None, chunk_size: int = 0
) -> tuple[int, dict[str, str], Any]:
    """One request; with `chunk_size` the body goes as `Transfer-Encoding: chunked`, no Content-Length."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    try:
        if chunk_size:
            assert body is not None
            conn.request(method, path, body=_chunks(body, chunk_size), headers=headers, encode_chunked=True)
        else:
            conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        raw = response.read()
        return response.status, dict(response.getheaders()), json.loads(raw) if raw else None
    finally:
        conn.close()


@pytest.mark.django_db(transaction=True)
def test_chunked_bodies_are_read_and_limited_under_gunicorn(gunicorn_port):
    created = make_tenant("chunked")
    assert created.api_key is not None
    key = created.api_key.raw_key

    lead = json.dumps({"name": "分块", "mobile": "13912340586", "notes": "备注" * 2500}).encode()
    status, _, body = gunicorn_request(gunicorn_port, "POST", "/api/v1/leads", key=key, body=lead, chunk_size=1000)
    assert status == 201, body
    assert body["outcome"] == "created" and body["lead"]["mobile"] == "+8613912340586"
    status, _, fetched = gunicorn_request(gunicorn_port, "GET", f"/api/v1/leads/{body['lead']['id']}", key=key)
    assert status == 200 and fetched["notes"] == "备注" * 2500
    with tenant_scope(created.tenant.id):
        assert Lead.objects.count() == 1

    too_big = json.dumps({"name": "分块", "mobile": "13912340587", "notes": "y" * 2_000_000}).encode()
    status, headers, body = gunicorn_request(gunicorn_port, "POST", "/api/v1/leads", key=key, body=too_big, chunk_size=65536)
    assert status == 413 and headers["Content-Type"] == PROBLEM
    assert "at most 1000000 bytes" in body["detail"]

    bulk_too_big = json.dumps({"leads": [{"notes": "z" * 5000}] * 2300}).encode()  # > 11 MB
    status, headers, body = gunicorn_request(
        gunicorn_port, "POST", "/api/v1/leads/bulk", key=key, body=bulk_too_big, chunk_size=65536
    )
    assert status == 413 and headers["Content-Type"] == PROBLEM
    with tenant_scope(created.tenant.id):
        assert Lead.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_empty_body_is_400_under_gunicorn(gunicorn_port):
    created = make_tenant("empty-body")
    assert created.api_key is not None
    for path in ("/api/v1/leads", "/api/v1/leads/bulk"):
        status, headers, body = gunicorn_request(gunicorn_port, "POST", path, key=created.api_key.raw_key, body=b"")
        assert status == 400 and headers["Content-Type"] == PROBLEM
        assert "empty" in body["detail"]
        status, headers, body = gunicorn_request(
            gunicorn_port, "POST", path, key=created.api_key.raw_key, body=b"", chunk_size=1
        )
        assert status == 400 and "empty" in body["detail"]


def chunked_environ(body: bytes, *, input_terminated: bool) -> dict[str, Any]:
    """What a WSGI server hands over for a chunked body: decoded input, no CONTENT_LENGTH."""
    environ: dict[str, Any] = {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": io.BytesIO(body)}
    if input_terminated:
        environ["wsgi.input_terminated"] = True
    return environ


@pytest.mark.django_db
def test_a_chunked_body_is_read_when_the_server_ends_the_input_and_411_otherwise(key_client, tenant_a):
    body = json.dumps({"name": "分块", "mobile": "13912340586"}).encode()
    # data=b"": the test client then sets no CONTENT_LENGTH, as for a chunked request
    response = key_client.generic(
        "POST", "/api/v1/leads", b"", "application/json", **chunked_environ(body, input_terminated=True)
    )
    assert response.status_code == 201 and response.json()["lead"]["mobile"] == "+8613912340586"
    # a server that does not say where the body ends (runserver): reading on would hang
    response = key_client.generic(
        "POST", "/api/v1/leads", b"", "application/json", **chunked_environ(body, input_terminated=False)
    )
    assert response.status_code == 411 and response["Content-Type"] == PROBLEM
    assert "Content-Length" in response.json()["detail"]
    with tenant_scope(tenant_a.tenant.id):
        assert Lead.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/leads", "/api/v1/leads/bulk"])
def test_an_empty_body_is_400_and_writes_nothing(key_client, tenant_a, path):
    response = key_client.post(path, data=b"", content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert response.json()["detail"].startswith("The request body is empty")
    with tenant_scope(tenant_a.tenant.id):
        assert Lead.objects.count() == 0


# --- nesting ----------------------------------------------------------------------------------



@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/leads", "[" * 1000 + "]" * 1000),
        ("/api/v1/leads", "[" * 100_000 + "]" * 100_000),
        ("/api/v1/leads", '{"mobile": "13912340586", "custom": ' + '{"a": ' * 1000 + "1" + "}" * 1001),
        ("/api/v1/leads/bulk", '{"leads": [' + '{"a": ' * 990 + "null" + "}" * 990 + "]}"),
        ("/api/v1/leads", '{"custom": ' + '{"a": ' * 32 + "1" + "}" * 33),  # 34 levels
    ],
)
def test_json_nested_too_deeply_is_a_400_problem(key_client, tenant_a, path, body):
    response = key_client.post(path, data=body, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert "nested too deeply" in response.json()["detail"]
    with tenant_scope(tenant_a.tenant.id):
        assert Lead.objects.count() == 0


@pytest.mark.django_db
def test_json_at_the_depth_limit_is_parsed(key_client, tenant_a):
    body = '{"leads": [{"mobile": "13912340586", "custom": ' + '{"a": ' * 28 + "1" + "}" * 29 + "]}"  # 32 levels
    response = key_client.post("/api/v1/leads/bulk", data=body, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["results"][0]["outcome"] == "invalid"  # no such custom field, said per item
    assert "custom.a" in response.json()["results"][0]["errors"]


# --- methods and routes -----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("scopes", [["read", "leads:write"], ["leads:write"], ["read"], []])
@pytest.mark.parametrize("method", ["put", "delete", "post"])
def test_a_method_a_lead_does_not_have_is_405_whatever_the_keys_scopes(tenant_a, scopes, method):
    from tests.conftest import client_with_scopes
    from tests.factories import lead_make

    lead = lead_make(tenant_a)
    response = getattr(client_with_scopes(tenant_a, scopes), method)(
        f"/api/v1/leads/{lead.id}", data={"name": "改"}, format="json"
    )
    assert response.status_code == 405
    assert response["Content-Type"] == PROBLEM
    assert response.json()["status"] == 405
    assert {m.strip() for m in response["Allow"].split(",")} >= {"GET", "PATCH"}  # an edit is a PATCH
    assert method.upper() not in response["Allow"]
    with tenant_scope(tenant_a.tenant.id):
        assert Lead.objects.get(id=lead.id).name == lead.name and Lead.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("scopes", [["read"], []])
def test_editing_a_lead_needs_the_write_scope(tenant_a, scopes):
    from tests.conftest import client_with_scopes
    from tests.factories import lead_make

    lead = lead_make(tenant_a, name="原名")
    response = client_with_scopes(tenant_a, scopes).patch(f"/api/v1/leads/{lead.id}", data={"name": "改"}, format="json")
    assert response.status_code == 403 and response["Content-Type"] == PROBLEM
    with tenant_scope(tenant_a.tenant.id):
        assert Lead.objects.get(id=lead.id).name == "原名"  # refused: nothing changed
    assert client_with_scopes(tenant_a, ["leads:write"]).patch(
        f"/api/v1/leads/{lead.id}", data={"name": "改"}, format="json"
    ).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_a_method_the_lead_list_does_not_have_is_405(key_client, method):
    response = getattr(key_client, method)("/api/v1/leads", data={}, format="json")
    assert response.status_code == 405
    assert response["Content-Type"] == PROBLEM
    assert {m.strip() for m in response["Allow"].split(",")} >= {"GET", "POST"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/v1/nope"), ("get", "/api/v2/leads"), ("post", "/api/v1/nope"), ("delete", "/api/v2/leads/1"),
     ("get", "/api/v1/leads/abc"), ("get", "/api/"), ("get", "/api"), ("get", "/api/v1/leads/1/nope")],
)
def test_unknown_api_routes_are_404_problems(key_client, api_client, method, path):
    for client in (key_client, api_client):  # with a key or without one
        response = getattr(client, method)(path, data={}, format="json")
        assert response.status_code == 404, (method, path)
        assert response["Content-Type"] == PROBLEM
        assert response.json()["status"] == 404
        assert path in response.json()["detail"]


# --- the database or the cache down -----------------------------------------------------------


@contextmanager
def database_unreachable() -> Iterator[None]:
    """The default connection points at a port nothing listens on, until the block ends."""
    original = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = str(_free_port())
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["PORT"] = original


def unreachable_cache() -> dict[str, Any]:
    return {"default": {"BACKEND": "leadcrm.cache.RedisCache", "LOCATION": f"redis://127.0.0.1:{_free_port()}/0"}}


def assert_unavailable(response: Any, service: str) -> None:
    assert response.status_code == 503, response.content[:300]
    assert response["Content-Type"] == PROBLEM
    assert response.json()["detail"] == f"The {service} is unavailable; retry later."
    assert int(response["Retry-After"]) > 0


@pytest.mark.django_db
def test_with_the_cache_down_the_api_answers_503_problem(key_client, tenant_a):
    with override_settings(CACHES=unreachable_cache()):
        assert_unavailable(key_client.get("/api/v1/leads"), "cache")  # the key look-up needs the cache
        assert_unavailable(
            key_client.post("/api/v1/leads", data={"mobile": "13912340586"}, format="json"), "cache"
        )
    with tenant_scope(tenant_a.tenant.id):
        assert Lead.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_with_the_database_down_the_api_answers_503_problem():
    created = make_tenant("db-down")
    assert created.api_key is not None
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {created.api_key.raw_key}")
    with database_unreachable():  # the key is not cached yet: authentication needs the database
        assert_unavailable(client.get("/api/v1/leads"), "database")
    assert client.get("/api/v1/leads").status_code == 200  # now the key is cached
    with database_unreachable():
        assert_unavailable(client.get("/api/v1/leads"), "database")
        assert_unavailable(client.post("/api/v1/leads", data={"mobile": "13912340586"}, format="json"), "database")
    assert client.get("/api/v1/leads").json()["results"] == []


@pytest.mark.django_db(transaction=True)
def test_with_the_database_down_pages_answer_a_503_page():
    created = make_tenant("db-down-page")
    client = Client()
    client.force_login(created.owner.user)
    assert client.get(f"/{created.tenant.slug}/leads").status_code == 200
    with database_unreachable():
        response = client.get(f"/{created.tenant.slug}/leads")
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert int(response["Retry-After"]) > 0
    page = response.content.decode()
    assert "服务暂时不可用" in page and "Service temporarily unavailable" in page
    assert "Traceback" not in page and "OperationalError" not in page
