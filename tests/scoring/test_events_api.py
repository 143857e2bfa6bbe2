"""`POST /api/v1/events`: what an integrator sees, and what the scores do afterwards."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from leadcrm.tenancy.scoping import tenant_scope
from leads.models import Lead
from scoring.models import LeadEvent, ScoreChange
from scoring.tasks import leads_rescore_task, pending_events_attach_task
from tests.conftest import client_with_scopes
from tests.factories import lead_make

pytestmark = pytest.mark.django_db


def _at(**delta: float) -> str:
    return (timezone.now() - timedelta(**delta)).isoformat()


def _event(event_id: str, lead: dict[str, Any], type_: str = "demo_request", **extra: Any) -> dict[str, Any]:
    return {"event_id": event_id, "lead": lead, "type": type_, "occurred_at": extra.pop("occurred_at", _at(hours=1)),
            **extra}


def _post(client, events: list[Any], **headers: str):
    return client.post("/api/v1/events", {"events": events}, format="json", **headers)


def _events(created) -> list[LeadEvent]:
    with tenant_scope(created.tenant.id):
        return list(LeadEvent.objects.order_by("id"))


def _lead(created, lead_id: int) -> Lead:
    with tenant_scope(created.tenant.id):
        return Lead.objects.get(id=lead_id)


def test_a_batch_is_accepted_and_a_repeated_event_id_counts_once(key_client, tenant_a):
    lead = lead_make(tenant_a)
    batch = [_event("e1", {"id": lead.id}), _event("e2", {"id": lead.id}), _event("e1", {"id": lead.id})]
    response = _post(key_client, batch)
    assert response.status_code == 202
    body = response.json()
    assert (body["accepted"], body["duplicates"], body["pending"]) == (2, 1, 0)
    again = _post(key_client, [_event("e2", {"id": lead.id}), _event("e3", {"id": lead.id})]).json()
    assert (again["accepted"], again["duplicates"]) == (1, 1)
    assert [(e.event_id, e.lead_id, e.status) for e in _events(tenant_a)] == [
        ("e1", lead.id, "attached"), ("e2", lead.id, "attached"), ("e3", lead.id, "attached"),
    ]


def test_references_by_mobile_email_and_external_id_are_normalised(key_client, tenant_a):
    lead = lead_make(tenant_a, mobile="13912340586", email="Wang.Wei@Fenyang-Tech.cn", external_id="crm-1", source="官网")
    batch = [
        _event("m", {"mobile": "+86 139-1234-0586"}),
        _event("e", {"email": " WANG.WEI@fenyang-tech.CN "}),
        _event("x", {"external_id": "crm-1"}),
        _event("xs", {"external_id": "crm-1", "source": "官网"}),
    ]
    body = _post(key_client, batch).json()
    assert (body["accepted"], body["pending"]) == (4, 0)
    assert {e.lead_id for e in _events(tenant_a)} == {lead.id}


def test_the_worker_task_scores_the_events_and_the_api_explains_them_exactly(key_client, tenant_a):
    lead = lead_make(tenant_a, title="CEO", company="华为")
    batch = [
        _event("d1", {"id": lead.id}, occurred_at=_at(days=10)),
        _event("w1", {"id": lead.id}, "webinar_attend", occurred_at=_at(days=1)),
        *[_event(f"pv{i}", {"id": lead.id}, "page_view", occurred_at=_at(minutes=30 + i)) for i in range(7)],
    ]
    assert _post(key_client, batch).status_code == 202
    leads_rescore_task(tenant_id=tenant_a.tenant.id, lead_ids=[lead.id])  # what the worker runs after commit

    body = key_client.get(f"/api/v1/leads/{lead.id}/score").json()
    stored = _lead(tenant_a, lead.id)
    assert Decimal(str(body["total"])) == stored.score_total
    assert sum(Decimal(str(c["points"])) for c in body["contributions"]) == stored.score_total
    kinds = [c["kind"] for c in body["contributions"]]
    assert kinds.count("event") == 2 + 5  # page views beyond 5 a day do not count
    assert "decay" in kinds and "cap" in kinds
    # 10 (CEO) + 25 decayed over 10 of its 90 days + 15 decayed over 1 day + 5 page views
    assert Decimal("50") < stored.score_total < Decimal("55")
    assert stored.last_activity_at is not None and stored.last_activity_at > timezone.now() - timedelta(hours=1)
    lead_body = key_client.get(f"/api/v1/leads/{lead.id}").json()
    assert Decimal(str(lead_body["score"]["total"])) == stored.score_total


def test_the_task_run_twice_gives_the_same_score_and_one_score_change(key_client, tenant_a):
    lead = lead_make(tenant_a)
    _post(key_client, [_event("d1", {"id": lead.id})])
    leads_rescore_task(tenant_id=tenant_a.tenant.id, lead_ids=[lead.id])
    first = _lead(tenant_a, lead.id)
    leads_rescore_task(tenant_id=tenant_a.tenant.id, lead_ids=[lead.id])
    second = _lead(tenant_a, lead.id)
    assert (first.score_total, first.scored_at) == (second.score_total, second.scored_at)
    with tenant_scope(tenant_a.tenant.id):
        changes = list(ScoreChange.objects.filter(lead_id=lead.id, reason="event"))
    assert len(changes) == 1
    assert (changes[0].previous_total, changes[0].total) == (Decimal("0.00"), first.score_total)


def test_unknown_types_are_kept_flagged_and_not_scored(key_client, tenant_a):
    lead = lead_make(tenant_a)
    body = _post(key_client, [_event("u1", {"id": lead.id}, "trial_start")]).json()
    assert body["accepted"] == 1 and body["flagged"]["unknown_type"] == 1
    leads_rescore_task(tenant_id=tenant_a.tenant.id, lead_ids=[lead.id])
    assert [(e.type, e.flag) for e in _events(tenant_a)] == [("trial_start", "unknown_type")]
    assert _lead(tenant_a, lead.id).score_total == 0


def test_future_and_decades_old_events_are_kept_flagged_and_not_scored(key_client, tenant_a):
    lead = lead_make(tenant_a)
    batch = [
        _event("f", {"id": lead.id}, occurred_at=(timezone.now() + timedelta(days=2)).isoformat()),
        _event("o", {"id": lead.id}, occurred_at="1990-01-01T00:00:00Z"),
        _event("ok", {"id": lead.id}, "email_open", occurred_at=_at(seconds=10)),
    ]
    body = _post(key_client, batch).json()
    assert body["accepted"] == 3
    assert (body["flagged"]["future"], body["flagged"]["too_old"]) == (1, 1)
    leads_rescore_task(tenant_id=tenant_a.tenant.id, lead_ids=[lead.id])
    assert _lead(tenant_a, lead.id).score_total == Decimal("2.00")  # the e-mail open alone


def test_a_reference_that_matches_two_leads_attaches_to_neither(key_client, tenant_a):
    first = lead_make(tenant_a, external_id="same", source="官网")
    second = lead_make(tenant_a, external_id="same", source="展会")
    body = _post(key_client, [_event("a", {"external_id": "same"})]).json()
    assert (body["accepted"], body["pending"], body["flagged"]["ambiguous"]) == (1, 0, 1)
    [event] = _events(tenant_a)
    assert (event.lead_id, event.flag) == (None, "ambiguous")
    # Naming the source makes it one lead.
    _post(key_client, [_event("b", {"external_id": "same", "source": "展会"})])
    assert [e.lead_id for e in _events(tenant_a)] == [None, second.id]
    assert first.id != second.id


def test_pending_events_attach_when_intake_brings_the_lead(key_client, tenant_a):
    batch = [
        _event("p1", {"mobile": "13957203841"}, occurred_at=_at(seconds=5)),
        _event("p2", {"email": "li.na@fenyang-tech.cn"}),
    ]
    body = _post(key_client, batch).json()
    assert (body["accepted"], body["pending"]) == (2, 2)
    lead = lead_make(tenant_a, mobile="13957203841")
    pending_events_attach_task(tenant_id=tenant_a.tenant.id, lead_ids=[lead.id])  # the hook's task
    events = _events(tenant_a)
    assert [(e.event_id, e.lead_id, e.status) for e in events] == [
        ("p1", lead.id, "attached"), ("p2", None, "pending"),
    ]
    assert _lead(tenant_a, lead.id).score_total == Decimal("25.00")


def test_another_tenants_lead_id_stays_pending_and_never_attaches(key_client, tenant_a, tenant_b):
    foreign = lead_make(tenant_b)
    body = _post(key_client, [_event("x", {"id": foreign.id})]).json()
    assert (body["accepted"], body["pending"]) == (1, 1)
    pending_events_attach_task(tenant_id=tenant_a.tenant.id, lead_ids=None)
    assert [(e.lead_id, e.status) for e in _events(tenant_a)] == [(None, "pending")]
    with tenant_scope(tenant_b.tenant.id):
        assert not LeadEvent.objects.exists()
    assert _lead(tenant_b, foreign.id).score_total == 0


def test_an_event_id_of_another_tenant_is_not_a_duplicate(key_client, tenant_a, tenant_b):
    own, foreign = lead_make(tenant_a), lead_make(tenant_b)
    _post(client_with_scopes(tenant_b, ["events:write"]), [_event("same", {"id": foreign.id})])
    assert _post(key_client, [_event("same", {"id": own.id})]).json()["accepted"] == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"events": []}, "events"),
        ({"events": None}, "events"),
        ({}, "events"),
        ({"events": [None]}, "events[0]"),
        ({"events": ["e1"]}, "events[0]"),
    ],
)
def test_a_batch_that_is_not_a_list_of_events_is_a_400(key_client, payload, field):
    response = key_client.post("/api/v1/events", payload, format="json")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert field in response.json()["errors"]


def test_an_empty_body_is_a_400(key_client):
    response = key_client.post("/api/v1/events", b"", content_type="application/json")
    assert response.status_code == 400


def test_bad_items_are_named_and_nothing_of_the_batch_is_stored(key_client, tenant_a):
    lead = lead_make(tenant_a)
    batch = [
        _event("good", {"id": lead.id}),
        {"event_id": 7, "lead": {"id": "abc"}, "type": "", "occurred_at": "yesterday", "properties": []},
        _event("two-refs", {"id": lead.id, "mobile": "13957203841"}),
        _event("bad-mobile", {"mobile": "12345"}),
        None,
    ]
    response = _post(key_client, batch)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {
        "events[1].event_id", "events[1].type", "events[1].occurred_at", "events[1].properties", "events[1].lead.id",
        "events[2].lead", "events[3].lead.mobile", "events[4]",
    } <= set(errors)
    assert not any(key.startswith("events[0]") for key in errors)
    assert _events(tenant_a) == []


def test_more_than_1000_events_is_a_413(key_client, tenant_a):
    lead = lead_make(tenant_a)
    response = _post(key_client, [_event(f"e{i}", {"id": lead.id}) for i in range(1001)])
    assert response.status_code == 413
    assert "1000" in response.json()["detail"]
    assert _events(tenant_a) == []


def test_a_key_without_the_events_scope_is_refused(tenant_a):
    lead = lead_make(tenant_a)
    response = _post(client_with_scopes(tenant_a, ["leads:write", "read"]), [_event("e", {"id": lead.id})])
    assert response.status_code == 403
    assert _events(tenant_a) == []


def test_an_idempotency_key_replays_the_first_answer(key_client, tenant_a):
    lead = lead_make(tenant_a)
    batch = [_event("e1", {"id": lead.id})]
    first = _post(key_client, batch, HTTP_IDEMPOTENCY_KEY="k1")
    second = _post(key_client, batch, HTTP_IDEMPOTENCY_KEY="k1")
    assert first.json() == second.json() and second.json()["accepted"] == 1
    assert second["Idempotent-Replayed"] == "true"


def test_options_describes_the_endpoint(key_client):
    assert key_client.options("/api/v1/events").status_code == 200
