"""Duplicate rules and company aliases over the API: the list in order, create, change, reorder,
delete; bad rules as problem+json with nothing changed; scopes, roles and other tenants."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from leadcrm.tenancy.models import AuditLog, Role
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import CreatedTenant
from leads.models import CompanyAlias, DedupConfig, DedupRule
from tests.conftest import add_member, client_with_scopes
from tests.factories import company_alias_make, dedup_rule_make, next_mobile

pytestmark = pytest.mark.django_db

RULES = "/api/v1/dedup-rules"
ALIASES = "/api/v1/company-aliases"
WECHAT_RULE = {"name": "微信号相同", "conditions": ["wechat"], "window_days": 90, "action": "collect"}


def send(client: APIClient, method: str, path: str, body: Any = None) -> Any:
    data = json.dumps(body) if body is not None else None
    return getattr(client, method)(path, data=data, content_type="application/json")


def rule_rows(created: CreatedTenant) -> list[tuple[int, str]]:
    with tenant_scope(created.tenant.id):
        return list(DedupRule.objects.order_by("position").values_list("position", "name"))


def test_the_list_gives_the_rules_in_order_in_the_list_envelope(key_client, tenant_a):
    body = key_client.get(RULES).json()
    assert body["next"] is None and body["previous"] is None
    assert [(r["position"], r["conditions"], r["action"], r["window_days"]) for r in body["results"]] == [
        (1, ["mobile"], "collect", 180), (2, ["email"], "collect", 180), (3, ["company", "name"], "route_to_owner", 180),
    ]
    one = key_client.get(f"{RULES}/{body['results'][2]['id']}").json()
    assert one["compare_with"] == "leads" and one["is_active"] is True


def test_create_change_move_and_delete(key_client, tenant_a):
    created = send(key_client, "post", RULES, {**WECHAT_RULE, "position": 1})
    assert created.status_code == 201, created.json()
    rule = created.json()
    assert rule["position"] == 1 and rule["compare_with"] == "leads"
    assert [p for p, _ in rule_rows(tenant_a)] == [1, 2, 3, 4]
    changed = send(key_client, "patch", f"{RULES}/{rule['id']}", {"window_days": None, "position": 4})
    assert changed.status_code == 200 and changed.json()["window_days"] is None and changed.json()["position"] == 4
    assert rule_rows(tenant_a)[-1] == (4, "微信号相同")
    assert key_client.delete(f"{RULES}/{rule['id']}").status_code == 204
    assert [p for p, _ in rule_rows(tenant_a)] == [1, 2, 3]
    with tenant_scope(tenant_a.tenant.id):
        actions = list(AuditLog.objects.filter(object_type="dedup_rule").values_list("action", "actor_api_key_id"))
    assert [a for a, _ in actions] == ["dedup_rule.create", "dedup_rule.update", "dedup_rule.delete"]
    assert all(key_id == tenant_a.api_key.api_key.id for _, key_id in actions)


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({**WECHAT_RULE, "conditions": []}, "conditions", "no conditions"),
        ({**WECHAT_RULE, "conditions": ["wechat", "qq"]}, "conditions", "Unknown field: qq"),
        ({**WECHAT_RULE, "conditions": "wechat"}, "conditions", "list of field names"),
        ({**WECHAT_RULE, "conditions": ["name"]}, "conditions", "cannot be a condition on its own"),
        ({**WECHAT_RULE, "window_days": 0}, "window_days", "between 1 and 3650"),
        ({**WECHAT_RULE, "window_days": 3651}, "window_days", "between 1 and 3650"),
        ({**WECHAT_RULE, "window_days": 1.5}, "window_days", "whole number"),
        ({**WECHAT_RULE, "action": "merge"}, "action", "must be one of"),
        ({**WECHAT_RULE, "compare_with": "both"}, "action", "needs a source lead"),
        ({**WECHAT_RULE, "compare_with": "customers"}, "compare_with", "Compare with one of"),
        ({**WECHAT_RULE, "name": ""}, "name", "Give the rule a name"),
        ({**WECHAT_RULE, "name": 7}, "name", "Give the rule a name"),
        ({**WECHAT_RULE, "is_active": "yes"}, "is_active", "true or false"),
        ({**WECHAT_RULE, "position": 9}, "position", "from 1 to 4"),
        ({**WECHAT_RULE, "conditions": ["email"], "window_days": 180}, "conditions", "whichever comes second"),
        ({**WECHAT_RULE, "colour": "red"}, "colour", "Unknown field"),
    ],
)
def test_a_bad_rule_is_a_problem_naming_the_field_and_changes_nothing(key_client, tenant_a, body, field, words):
    with tenant_scope(tenant_a.tenant.id):
        version = DedupConfig.objects.get().version
    response = send(key_client, "post", RULES, body)
    assert response.status_code == 400 and response["Content-Type"] == "application/problem+json"
    assert words in " ".join(response.json()["errors"][field])
    assert len(rule_rows(tenant_a)) == 3
    with tenant_scope(tenant_a.tenant.id):
        assert DedupConfig.objects.get().version == version
        assert not AuditLog.objects.filter(object_type="dedup_rule").exists()


def test_a_bad_change_leaves_the_rule_as_it_was(key_client, tenant_a):
    rule = key_client.get(RULES).json()["results"][0]
    response = send(key_client, "patch", f"{RULES}/{rule['id']}", {"conditions": [], "name": "改名"})
    assert response.status_code == 400 and "conditions" in response.json()["errors"]
    assert key_client.get(f"{RULES}/{rule['id']}").json() == rule
    assert send(key_client, "patch", f"{RULES}/{rule['id']}", [1]).status_code == 400


def test_a_new_rule_applies_to_the_next_submission(key_client, tenant_a):
    send(key_client, "post", RULES, {**WECHAT_RULE, "position": 1})
    first = send(key_client, "post", "/api/v1/leads", {"name": "赵敏", "wechat": "wx_zhaomin"}).json()
    again = send(key_client, "post", "/api/v1/leads", {"name": "赵敏", "wechat": "wx_zhaomin", "mobile": next_mobile()})
    assert again.status_code == 200
    body = again.json()
    assert body["outcome"] == "merged" and body["lead"]["id"] == first["lead"]["id"]
    assert body["dedup_rule"]["name"] == "微信号相同" and body["dedup_rule"]["action"] == "collect"


def test_another_tenants_rule_and_alias_are_404(key_client, tenant_b):
    theirs = dedup_rule_make(tenant_b)
    alias = company_alias_make(tenant_b)
    assert key_client.get(f"{RULES}/{theirs.id}").status_code == 404
    assert send(key_client, "patch", f"{RULES}/{theirs.id}", {"name": "x"}).status_code == 404
    assert key_client.delete(f"{RULES}/{theirs.id}").status_code == 404
    assert key_client.delete(f"{ALIASES}/{alias.id}").status_code == 404
    assert theirs.id not in [r["id"] for r in key_client.get(RULES).json()["results"]]
    with tenant_scope(tenant_b.tenant.id):
        assert DedupRule.objects.filter(id=theirs.id).exists() and CompanyAlias.objects.filter(id=alias.id).exists()


def test_keys_need_read_to_list_and_leads_write_to_change(tenant_a):
    reader, writer = client_with_scopes(tenant_a, ["read"]), client_with_scopes(tenant_a, ["leads:write"])
    assert reader.get(RULES).status_code == 200
    assert send(reader, "post", RULES, WECHAT_RULE).status_code == 403
    assert writer.get(RULES).status_code == 403
    assert send(writer, "post", RULES, WECHAT_RULE).status_code == 201
    assert send(writer, "post", ALIASES, {"alias": "纷享销客", "company": "北京纷扬科技有限公司"}).status_code == 201


def test_sessions_of_admins_only(api_client, tenant_a):
    api_client.force_login(tenant_a.owner.user)
    assert api_client.get(RULES).status_code == 200
    assert send(api_client, "post", RULES, WECHAT_RULE).status_code == 201
    for role in (Role.REP, Role.MANAGER, Role.READ_ONLY):
        member = add_member(tenant_a, f"{role}@tenant-a.test", role)
        client = APIClient()
        client.force_login(member.user)
        assert client.get(RULES).status_code == 403
        assert send(client, "post", RULES, {**WECHAT_RULE, "name": role}).status_code == 403
        assert client.get(ALIASES).status_code == 403


def test_aliases_are_listed_created_refused_and_deleted(key_client, tenant_a):
    created = send(key_client, "post", ALIASES, {"alias": "纷享销客", "company": "北京纷扬科技有限公司"})
    assert created.status_code == 201
    listed = key_client.get(ALIASES).json()
    assert [(a["alias"], a["company"]) for a in listed["results"]] == [("纷享销客", "北京纷扬科技有限公司")]
    refused = send(key_client, "post", ALIASES, {"alias": "纷享销客", "company": "上海鼎安餐饮管理有限公司"})
    assert refused.status_code == 400 and "already an alias" in refused.json()["errors"]["alias"][0]
    assert send(key_client, "post", ALIASES, {"alias": 1, "company": "x"}).status_code == 400
    assert send(key_client, "post", ALIASES, {"alias": "a", "company": "b", "note": "c"}).status_code == 400
    assert key_client.get(ALIASES, {"page_size": "abc"}).status_code == 400
    assert key_client.delete(f"{ALIASES}/{created.json()['id']}").status_code == 204
    assert key_client.get(ALIASES).json()["results"] == []
