"""The OpenAPI schema integrators read (/api/v1/schema/, rendered at /api/v1/docs/): English
throughout, no internal notes, every response and parameter explained, real shapes."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

CHINESE = re.compile(r"[\u3400-\u9fff]")


@pytest.fixture(scope="module")
def schema(django_db_blocker: Any) -> dict[str, Any]:
    with django_db_blocker.unblock():
        # Whatever the caller's language: the API has no locale negotiation.
        response = Client(headers={"Accept-Language": "zh-hans"}).get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return json.loads(response.content)


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, item in schema["paths"].items() for method, op in item.items()]


def _texts_outside_examples(node: Any, path: str = "") -> list[tuple[str, str]]:
    """Every string of the schema but example values (a lead's name is Chinese data)."""
    if isinstance(node, dict):
        return [
            found for key, value in node.items() if key not in {"example", "examples"}
            for found in _texts_outside_examples(value, f"{path}/{key}")
        ]
    if isinstance(node, list):
        return [found for i, value in enumerate(node) for found in _texts_outside_examples(value, f"{path}[{i}]")]
    return [(path, node)] if isinstance(node, str) else []


def test_every_parameter_has_an_english_description(schema):
    parameters = [(path, p) for path, _method, op in _operations(schema) for p in op.get("parameters", [])]
    assert len(parameters) > 20
    undescribed = [(path, p["name"]) for path, p in parameters if not p.get("description", "").strip()]
    chinese = [(path, p["name"], p["description"]) for path, p in parameters if CHINESE.search(p.get("description", ""))]
    assert undescribed == []
    assert chinese == []


def test_no_chinese_text_and_no_internal_notes_outside_examples(schema):
    assert [text for text in _texts_outside_examples(schema) if CHINESE.search(text[1])] == []
    assert "API.md" not in json.dumps(schema)


def test_intake_responses_are_described_with_an_example_of_each_outcome(schema):
    responses = schema["paths"]["/api/v1/leads"]["post"]["responses"]
    outcomes = {}
    for status in ("201", "200", "202"):
        assert responses[status]["description"].strip(), status
        examples = responses[status]["content"]["application/json"]["examples"]
        outcomes[status] = sorted(example["value"]["outcome"] for example in examples.values())
    assert outcomes == {"201": ["created"], "200": ["merged", "updated"], "202": ["quarantined"]}
    bulk = schema["paths"]["/api/v1/leads/bulk"]["post"]["responses"]["200"]
    assert bulk["description"].strip()
    (example,) = bulk["content"]["application/json"]["examples"].values()
    assert {result["outcome"] for result in example["value"]["results"]} >= {"created", "merged", "quarantined", "invalid"}


def test_bulk_items_are_lead_submissions(schema):
    bulk_body = schema["paths"]["/api/v1/leads/bulk"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    single_body = schema["paths"]["/api/v1/leads"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    component = schema["components"]["schemas"][bulk_body["$ref"].rsplit("/", 1)[1]]
    assert component["properties"]["leads"]["items"] == {"$ref": single_body["$ref"]}


def test_the_list_shows_our_cursor_envelope(schema):
    ok = schema["paths"]["/api/v1/leads"]["get"]["responses"]["200"]
    page = schema["components"]["schemas"][ok["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]]
    assert set(page["properties"]) == {"next", "previous", "results"}
    assert set(page["required"]) == {"next", "previous", "results"}
    for link in ("next", "previous"):
        assert page["properties"][link]["nullable"] is True
        assert page["properties"][link]["example"].startswith("https://crm.example.com/api/v1/leads?")
    assert "api.example.org" not in json.dumps(schema)  # DRF's stock example
