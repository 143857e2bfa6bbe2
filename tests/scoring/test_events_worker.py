"""Events with the real worker: the score an integrator reads follows the events it sent, and
events sent before their lead attach when intake brings it."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from leadcrm.tenancy.scoping import tenant_scope
from scoring.models import LeadEvent, ScoreChange
from tests.conftest import make_tenant

pytestmark = pytest.mark.django_db(transaction=True)


def _wait_for(check: Callable[[], Any], worker, seconds: float = 60) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert worker.poll() is None, "the worker died"
        if value := check():
            return value
        time.sleep(0.2)
    raise AssertionError("the worker did not get there in time")


def _client(created) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {created.api_key.raw_key}")
    return client


def test_posted_events_reach_the_score_on_the_api(celery_worker_process):
    created = make_tenant("events-worker")
    client = _client(created)
    lead = client.post("/api/v1/leads", {"name": "王伟", "mobile": "13957203841", "title": "CEO", "company": "纷扬科技"}, format="json").json()
    lead_id = lead["lead"]["id"]
    assert lead["lead"]["score"]["total"] == 10.0
    now = timezone.now()
    events = [
        {"event_id": "d", "lead": {"id": lead_id}, "type": "demo_request", "occurred_at": now.isoformat()},
        {"event_id": "w", "lead": {"mobile": "139 5720 3841"}, "type": "webinar_attend",
         "occurred_at": (now - timedelta(days=3)).isoformat()},
    ]
    assert client.post("/api/v1/events", {"events": events}, format="json").status_code == 202

    def scored() -> dict[str, Any] | None:
        body = client.get(f"/api/v1/leads/{lead_id}/score").json()
        return body if body["total"] > 40 else None

    body = _wait_for(scored, celery_worker_process)
    assert sum(Decimal(str(c["points"])) for c in body["contributions"]) == Decimal(str(body["total"]))
    assert [c["kind"] for c in body["contributions"]].count("event") == 2
    with tenant_scope(created.tenant.id):
        assert ScoreChange.objects.filter(lead_id=lead_id, reason="event").count() == 1


def test_events_sent_before_the_lead_attach_when_it_arrives(celery_worker_process):
    created = make_tenant("events-pending")
    client = _client(created)
    events = [{"event_id": "early", "lead": {"email": "Li.Na@Fenyang-Tech.cn"}, "type": "demo_request",
               "occurred_at": timezone.now().isoformat()}]
    assert client.post("/api/v1/events", {"events": events}, format="json").json()["pending"] == 1
    time.sleep(1)  # the batch's own look-up has run and found nobody
    lead_id = client.post("/api/v1/leads", {"name": "李娜", "email": "li.na@fenyang-tech.cn"}, format="json").json()[
        "lead"
    ]["id"]

    def attached_and_scored() -> bool:
        with tenant_scope(created.tenant.id):
            event = LeadEvent.objects.get(event_id="early")
        score = client.get(f"/api/v1/leads/{lead_id}").json()["score"]["total"]
        return event.lead_id == lead_id and event.status == "attached" and score >= 24.9

    _wait_for(attached_and_scored, celery_worker_process)
