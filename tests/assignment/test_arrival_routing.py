"""Leads that arrive mature are routed after intake commits, by a real worker; a tenant with no
active assignment rule gets no routing task at all (nothing could route, and the publish was the
costliest step of a single-lead submission)."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest
from celery.signals import before_task_publish

from leadcrm.tenancy.scoping import tenant_scope
from leads.models import Lead
from scoring.models import RuleSetStatus, ScoringRuleSet
from tests.assignment.helpers import pool_with_rule, reps_make


def _mature_on_arrival(created: Any) -> None:
    with tenant_scope(created.tenant.id):  # a CEO is mature on arrival (CEO +10)
        ScoringRuleSet.objects.filter(status=RuleSetStatus.PUBLISHED).update(mature=Decimal(5))


class _Published:
    def __init__(self) -> None:
        self.routing: list[dict[str, Any]] = []

    def __call__(self, sender: Any = None, body: Any = None, headers: Any = None, **kwargs: Any) -> None:
        if (headers or {}).get("task") == "assignment.leads_route":
            self.routing.append(body[1] if isinstance(body, tuple | list) else body)

    def __enter__(self) -> _Published:
        before_task_publish.connect(self, weak=False)
        return self

    def __exit__(self, *exc: object) -> None:
        before_task_publish.disconnect(self)


@pytest.mark.django_db(transaction=True)
def test_a_tenant_without_an_active_rule_publishes_no_routing_task(key_client, tenant_a):
    _mature_on_arrival(tenant_a)
    with _Published() as published:
        response = key_client.post("/api/v1/leads", {"name": "王总", "mobile": "13912340777", "title": "CEO"}, format="json")
    assert response.status_code == 201 and response.json()["lead"]["score"]["mature"] is True
    assert published.routing == []


@pytest.mark.django_db(transaction=True)
def test_with_an_active_rule_a_mature_arrival_publishes_one_routing_task_and_an_immature_none(key_client, tenant_a):
    _mature_on_arrival(tenant_a)
    pool_with_rule(tenant_a, reps_make(tenant_a, 1), pool={"is_default": True})
    with _Published() as published:
        mature = key_client.post("/api/v1/leads", {"name": "王总", "mobile": "13912340777", "title": "CEO"}, format="json")
        key_client.post("/api/v1/leads", {"name": "学生", "mobile": "13912340778", "title": "学生"}, format="json")
    assert [call["lead_ids"] for call in published.routing] == [[mature.json()["lead"]["id"]]]


def test_a_mature_arrival_is_routed_by_the_worker(celery_worker_process, key_client, tenant_a):
    _mature_on_arrival(tenant_a)
    (rep,) = reps_make(tenant_a, 1)
    pool_with_rule(tenant_a, [rep], pool={"is_default": True}, rule={"respect_working_hours": False})
    lead_id = key_client.post(
        "/api/v1/leads", {"name": "王总", "mobile": "13912340779", "title": "CEO"}, format="json"
    ).json()["lead"]["id"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with tenant_scope(tenant_a.tenant.id):
            if (owner := Lead.objects.get(id=lead_id).owner_id) is not None:
                break
        time.sleep(0.2)
    assert owner == rep
