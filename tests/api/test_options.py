"""OPTIONS on an endpoint that reads its body by hand describes it instead of failing."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/pools", "/api/v1/leads/1/assign", "/api/v1/events", "/api/v1/leads"])
def test_options_answers_with_the_endpoint_description(key_client, path):
    response = key_client.options(path)
    assert response.status_code == 200
    body = response.json()
    assert body["name"] and "application/json" in body["renders"]
