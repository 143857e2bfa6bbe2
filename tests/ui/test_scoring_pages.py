"""The admins' scoring pages: versions, the draft editor, preview, publish, progress."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from leadcrm.tenancy.models import Role
from leadcrm.tenancy.scoping import tenant_scope
from scoring.models import AttributeRule, EventType, RescoreJob, ScoringRuleSet
from tests.conftest import CreatedTenant, add_member
from tests.factories import lead_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(tenant_a: CreatedTenant) -> Client:
    client = Client()
    client.force_login(tenant_a.owner.user)
    return client


def _draft_url(client: Client) -> str:
    response = client.post("/tenant-a/settings/scoring")
    assert response.status_code == 302
    return str(response["Location"])


def test_an_admin_edits_previews_and_publishes_a_draft(tenant_a, admin_client):
    lead_make(tenant_a, industry="制造业", company="纷扬科技")
    listing = admin_client.get("/tenant-a/settings/scoring")
    assert listing.status_code == 200 and "v1" in listing.content.decode()
    url = _draft_url(admin_client)
    assert admin_client.get(url).status_code == 200
    added = admin_client.post(url, {"op": "rule", "label": "制造业", "dimension": "company", "field": "industry",
                                    "operator": "in", "value": "制造业", "points": "60"})
    assert added.status_code == 302
    preview = admin_client.get(f"{url}/preview")
    assert preview.status_code == 200 and "按全部 1 条线索计算" in preview.content.decode()
    published = admin_client.post(url, {"op": "publish"})
    assert published.status_code == 302 and "/settings/scoring/jobs/" in published["Location"]
    progress = admin_client.get(published["Location"])
    assert progress.status_code == 200 and "0 / 1" in progress.content.decode()
    fragment = admin_client.get(published["Location"], HTTP_HX_REQUEST="true")
    assert 'hx-trigger="every 1s"' in fragment.content.decode() and "<html" not in fragment.content.decode()
    with tenant_scope(tenant_a.tenant.id):
        assert dict(ScoringRuleSet.objects.values_list("version", "status")) == {1: "archived", 2: "published"}


def test_errors_show_next_to_their_fields_and_nothing_is_saved(tenant_a, admin_client):
    url = _draft_url(admin_client)
    response = admin_client.post(url, {"op": "rule", "label": "", "dimension": "company", "field": "nope",
                                       "operator": "equals", "value": "x", "points": "abc"})
    body = response.content.decode()
    assert response.status_code == 400
    assert "线索没有“nope”这个字段" in body and "“abc”不是数字" in body and "请给规则起个名字" in body
    english = admin_client.post(url, {"op": "rule", "label": "", "dimension": "company", "field": "nope",
                                      "operator": "equals", "value": "x", "points": "abc"}, HTTP_ACCEPT_LANGUAGE="en")
    body = english.content.decode()
    assert "A lead has no field “nope”" in body and "“abc” is not a number" in body and "Give the rule a name" in body
    thresholds = admin_client.post(url, {"op": "settings", "grade_a": "40", "grade_b": "50", "grade_c": "25",
                                         "level_1": "60", "level_2": "30", "tier_hot": "80", "tier_warm": "50",
                                         "mature": "50"}, HTTP_ACCEPT_LANGUAGE="en")
    assert thresholds.status_code == 400 and "The Grade bands are out of order" in thresholds.content.decode()
    with tenant_scope(tenant_a.tenant.id):
        draft = ScoringRuleSet.objects.get(status="draft")
        assert draft.grade_a == 75 and not AttributeRule.objects.filter(rule_set=draft, field="nope").exists()


def test_a_publish_while_a_rescore_runs_says_so(tenant_a, admin_client):
    url = _draft_url(admin_client)
    with tenant_scope(tenant_a.tenant.id):
        published = ScoringRuleSet.objects.get(status="published")
        RescoreJob.objects.create(tenant=tenant_a.tenant, rule_set=published, version=1, status="running")
    response = admin_client.post(url, {"op": "publish"})
    assert response.status_code == 409 and "还在进行" in response.content.decode()
    with tenant_scope(tenant_a.tenant.id):
        assert ScoringRuleSet.objects.get(status="published").version == 1


def test_a_rep_gets_403(tenant_a):
    member = add_member(tenant_a, "rep@tenant-a.test", role=Role.REP)
    client = Client()
    client.force_login(member.user)
    assert client.get("/tenant-a/settings/scoring").status_code == 403
    with tenant_scope(tenant_a.tenant.id):
        rule_set_id = ScoringRuleSet.objects.get().id
    assert client.get(f"/tenant-a/settings/scoring/{rule_set_id}").status_code == 403


def test_another_tenants_rule_set_and_job_are_404(tenant_a, tenant_b, admin_client):
    with tenant_scope(tenant_b.tenant.id):
        other = ScoringRuleSet.objects.get()
        job = RescoreJob.objects.create(tenant=tenant_b.tenant, rule_set=other, version=1)
    assert admin_client.get(f"/tenant-a/settings/scoring/{other.id}").status_code == 404
    assert admin_client.post(f"/tenant-a/settings/scoring/{other.id}", {"op": "publish"}).status_code == 404
    assert admin_client.get(f"/tenant-a/settings/scoring/{other.id}/preview").status_code == 404
    assert admin_client.get(f"/tenant-a/settings/scoring/jobs/{job.id}").status_code == 404


def test_a_rule_and_an_event_type_are_edited_in_place_with_errors_beside_their_fields(tenant_a, admin_client):
    url = _draft_url(admin_client)
    admin_client.post(url, {"op": "rule", "label": "制造业", "dimension": "company", "field": "industry",
                            "operator": "in", "value": "制造业, 汽车", "points": "20"})
    with tenant_scope(tenant_a.tenant.id):
        rule = AttributeRule.objects.get(rule_set__status="draft", label="制造业")
        event = EventType.objects.filter(rule_set__status="draft").order_by("key").first()
        assert event is not None
    # The row turns into its form, filled with what the rule holds.
    editing = admin_client.get(f"{url}?edit_rule={rule.id}").content.decode()
    assert f'<tr id="rule-{rule.id}" class="editing">' in editing
    assert 'value="制造业, 汽车"' in editing and f'name="rule_id" value="{rule.id}"' in editing
    # A wrong value: the same row's form again, the error beside the points, nothing saved.
    refused = admin_client.post(url, {"op": "rule", "rule_id": str(rule.id), "label": "制造业", "dimension": "company",
                                      "field": "industry", "operator": "in", "value": "制造业", "points": "500"})
    body = refused.content.decode()
    assert refused.status_code == 400
    row = body[body.index(f'<tr id="rule-{rule.id}" class="editing">'):]
    assert "分数须在 -100 到 100 之间" in row[:row.index("</tr>")]
    saved = admin_client.post(url, {"op": "rule", "rule_id": str(rule.id), "label": "制造业 2", "dimension": "company",
                                    "field": "industry", "operator": "in", "value": "制造业", "points": "25"})
    assert saved.status_code == 302
    with tenant_scope(tenant_a.tenant.id):
        rule.refresh_from_db()
        assert (rule.label, rule.value, rule.points) == ("制造业 2", ["制造业"], Decimal(25))
    editing = admin_client.get(f"{url}?edit_event={event.id}").content.decode()
    assert f'<tr id="event-{event.id}" class="editing">' in editing and f'value="{event.key}"' in editing
    refused = admin_client.post(url, {"op": "event", "event_type_id": str(event.id), "key": event.key, "label": "x",
                                      "strength": "strong", "points": "5", "cap_count": "0", "cap_period": "day"})
    body = refused.content.decode()
    row = body[body.index(f'<tr id="event-{event.id}" class="editing">'):]
    assert refused.status_code == 400 and "上限至少为 1 次" in row[:row.index("</tr>")]
    saved = admin_client.post(url, {"op": "event", "event_type_id": str(event.id), "key": event.key, "label": "看价格",
                                    "strength": "strong", "points": "7", "cap_count": "2", "cap_period": "week"})
    assert saved.status_code == 302
    with tenant_scope(tenant_a.tenant.id):
        event.refresh_from_db()
        assert (event.label, event.points, event.cap_count, event.cap_period) == ("看价格", Decimal(7), 2, "week")
