"""Log-in: the lockout counts attempts per person, however the e-mail is written."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_changing_the_letter_case_of_the_email_does_not_escape_the_lockout(tenant_a):
    client = Client()
    variants = ["owner@tenant-a.test", "OWNER@tenant-a.test", "Owner@Tenant-A.test", " owner@TENANT-A.TEST ",
                "oWnEr@tenant-a.TEST"]
    for variant in variants:
        response = client.post("/login", {"username": variant, "password": "wrong-password"})
        assert response.status_code in (200, 429)
    response = client.post("/login", {"username": "OWNER@TENANT-A.TEST", "password": PASSWORD})
    assert response.status_code == 429
    assert "登录已暂时锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_four_wrong_tries_in_any_case_still_let_the_right_password_in(tenant_a):
    client = Client()
    for variant in ["owner@tenant-a.test", "OWNER@tenant-a.test", "Owner@Tenant-A.test", "oWnEr@tenant-a.TEST"]:
        client.post("/login", {"username": variant, "password": "wrong-password"})
    response = client.post("/login", {"username": "Owner@tenant-a.test", "password": PASSWORD})
    assert response.status_code == 302
