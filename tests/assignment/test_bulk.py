"""Bulk actions on the lead list (assign, return, mark invalid) and masked contacts on the
list, the lead page and the API."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from assignment.models import Pool
from leadcrm.tenancy.models import Role
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import CreatedTenant
from leads.masking import mask_digits
from leads.models import Lead, LeadStatus
from tests.assignment.sla_helpers import assigned_lead, rep_make
from tests.factories import lead_make

pytestmark = pytest.mark.django_db


def browser(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def states(created: CreatedTenant, ids: list[int]) -> dict[int, tuple[int | None, str]]:
    with tenant_scope(created.tenant.id):
        return {row[0]: (row[1], row[2]) for row in Lead.objects.filter(id__in=ids).values_list("id", "owner_id", "status")}


def messages_of(response: Any) -> str:
    return " ".join(str(m) for m in response.wsgi_request._messages)


# --- the bar on the list ------------------------------------------------------------------------


def test_list_shows_checkboxes_and_the_actions_each_role_may_take(tenant_a):
    rep = rep_make(tenant_a, "rep@a.test")
    reader = rep_make(tenant_a, "reader@a.test", role=Role.READ_ONLY)
    lead = assigned_lead(tenant_a, rep.id)
    manager_page = browser(tenant_a.owner.user).get("/tenant-a/leads").content.decode()
    assert f'name="lead" value="{lead.id}" form="bulk-form"' in manager_page
    assert 'action="/tenant-a/leads/bulk"' in manager_page
    assert 'value="assign"' in manager_page and 'value="return"' in manager_page and 'value="invalid"' in manager_page
    assert "rep@a.test" in manager_page  # the rep picker, with open-lead counts
    assert "1 条跟进中" in manager_page

    rep_page = browser(rep).get("/tenant-a/leads").content.decode()
    assert 'name="lead"' in rep_page and 'value="assign"' not in rep_page and 'value="return"' in rep_page

    reader_page = browser(reader).get("/tenant-a/leads").content.decode()
    assert 'name="lead"' not in reader_page and "bulk-form" not in reader_page


def test_the_rep_picker_counts_open_leads_up_to_its_cap_and_shows_more_as_plus(tenant_a, monkeypatch):
    from assignment import page_selectors

    monkeypatch.setattr(page_selectors, "OPEN_LEADS_COUNTED_TO", 2)
    busy, free = rep_make(tenant_a, "busy@a.test"), rep_make(tenant_a, "free@a.test")
    for _ in range(3):
        assigned_lead(tenant_a, busy.id)
    for _ in range(2):
        assigned_lead(tenant_a, free.id)
    page = browser(tenant_a.owner.user).get("/tenant-a/leads").content.decode()
    assert "busy · 2+ 条跟进中" in page  # three held, counted up to the cap
    assert "free · 2 条跟进中" in page


def test_bulk_assign_with_a_mixed_selection_says_what_was_skipped_and_why(tenant_a):
    rep = rep_make(tenant_a, "rep@a.test")
    other = rep_make(tenant_a, "other@a.test")
    fresh = [lead_make(tenant_a).id for _ in range(2)]
    already = assigned_lead(tenant_a, rep.id).id
    closed = lead_make(tenant_a, status=LeadStatus.CONVERTED).id
    client = browser(tenant_a.owner.user)
    response = client.post("/tenant-a/leads/bulk", {
        "action": "assign", "owner": rep.id, "lead": [*fresh, already, closed], "back_query": "status=pending",
    })
    assert response.status_code == 302 and response["Location"] == "/tenant-a/leads?status=pending"
    words = messages_of(response)
    assert "2 条已完成" in words and "2 条跳过" in words
    assert "1 条已经由这位销售负责" in words and "1 条当前状态不允许" in words
    after = states(tenant_a, [*fresh, already, closed])
    assert all(after[i][0] == rep.id for i in fresh)
    assert after[closed][0] is None
    assert other.id not in {owner for owner, _status in after.values()}
    # the list, with the message, in English too
    page = client.get("/tenant-a/leads?status=pending", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200


def test_bulk_assign_of_the_whole_page_without_javascript(tenant_a):
    rep = rep_make(tenant_a, "rep@a.test")
    ids = [lead_make(tenant_a).id for _ in range(3)]
    response = browser(tenant_a.owner.user).post("/tenant-a/leads/bulk", {
        "action": "assign", "owner": rep.id, "all_on_page": "1", "page_lead": ids, "lead": [ids[0]],
    })
    assert response.status_code == 302
    assert {owner for owner, _status in states(tenant_a, ids).values()} == {rep.id}


def test_bulk_return_asks_to_confirm_then_returns_only_what_it_may(tenant_a):
    rep = rep_make(tenant_a, "rep@a.test")
    mine = [assigned_lead(tenant_a, rep.id).id for _ in range(2)]
    unowned = lead_make(tenant_a).id
    client = browser(tenant_a.owner.user)
    data = {"action": "return", "reason": "客户要求暂缓", "lead": [*mine, unowned]}
    confirm = client.post("/tenant-a/leads/bulk", data)
    body = confirm.content.decode()
    assert confirm.status_code == 200 and 'name="confirmed" value="1"' in body
    assert "确定把 2 条线索退回线索池吗" in body and "1 条没有负责人" in body
    assert all(owner == rep.id for owner, _status in states(tenant_a, mine).values())  # nothing yet

    done = client.post("/tenant-a/leads/bulk", {**data, "confirmed": "1"})
    assert done.status_code == 302
    assert "2 条已完成，1 条跳过：1 条没有负责人，已在线索池中" in messages_of(done)
    after = states(tenant_a, [*mine, unowned])
    assert all(after[i] == (None, LeadStatus.RETURNED) for i in mine)
    assert after[unowned] == (None, LeadStatus.PENDING)


def test_bulk_invalid_needs_a_reason_and_skips_what_cannot_become_invalid(tenant_a):
    ids = [lead_make(tenant_a).id for _ in range(2)]
    voided = lead_make(tenant_a, status=LeadStatus.VOIDED).id
    client = browser(tenant_a.owner.user)
    refused = client.post("/tenant-a/leads/bulk", {"action": "invalid", "lead": [*ids, voided]})
    assert refused.status_code == 400 and "请说明原因" in refused.content.decode()
    assert f'name="lead" value="{voided}"' in refused.content.decode()  # the selection is kept
    done = client.post("/tenant-a/leads/bulk", {"action": "invalid", "reason": "空号", "lead": [*ids, voided],
                                                "confirmed": "1"})
    assert "2 条已完成，1 条跳过：1 条当前状态不允许" in messages_of(done)
    after = states(tenant_a, [*ids, voided])
    assert [after[i][1] for i in ids] == [LeadStatus.INVALID] * 2 and after[voided][1] == LeadStatus.VOIDED


def test_a_rep_acts_only_on_their_own_leads_and_cannot_bulk_assign(tenant_a):
    rep = rep_make(tenant_a, "rep@a.test")
    colleague = rep_make(tenant_a, "colleague@a.test")
    mine = assigned_lead(tenant_a, rep.id).id
    theirs = assigned_lead(tenant_a, colleague.id).id
    client = browser(rep)
    done = client.post("/tenant-a/leads/bulk", {"action": "invalid", "reason": "空号", "lead": [mine, theirs],
                                                 "confirmed": "1"})
    assert "1 条已完成，1 条跳过：1 条不是你负责的" in messages_of(done)
    after = states(tenant_a, [mine, theirs])
    assert after[mine][1] == LeadStatus.INVALID and after[theirs] == (colleague.id, LeadStatus.PENDING)

    assign = client.post("/tenant-a/leads/bulk", {"action": "assign", "owner": rep.id, "lead": [theirs]})
    assert assign.status_code == 400 and "请选择一个你可以执行的批量操作" in assign.content.decode()
    assert states(tenant_a, [theirs])[theirs][0] == colleague.id


def test_another_tenants_ids_in_the_post_are_ignored_and_never_touched(tenant_a, tenant_b):
    rep = rep_make(tenant_a, "rep@a.test")
    mine = lead_make(tenant_a).id
    foreign = lead_make(tenant_b).id
    foreign_owned = assigned_lead(tenant_b, tenant_b.owner.user_id).id
    client = browser(tenant_a.owner.user)
    done = client.post("/tenant-a/leads/bulk", {"action": "assign", "owner": rep.id, "lead": [mine, foreign, foreign_owned]})
    assert messages_of(done) == "1 条已完成"
    assert states(tenant_a, [mine])[mine][0] == rep.id
    assert states(tenant_b, [foreign, foreign_owned]) == {
        foreign: (None, LeadStatus.PENDING), foreign_owned: (tenant_b.owner.user_id, LeadStatus.PENDING),
    }
    client.post("/tenant-a/leads/bulk", {"action": "return", "reason": "x", "lead": [foreign_owned], "confirmed": "1"})
    assert states(tenant_b, [foreign_owned])[foreign_owned][0] == tenant_b.owner.user_id


def test_htmx_gets_the_confirm_step_inline_and_a_redirect_when_done(tenant_a):
    rep = rep_make(tenant_a, "rep@a.test")
    lead = assigned_lead(tenant_a, rep.id).id
    client = browser(tenant_a.owner.user)
    data = {"action": "return", "reason": "重复", "lead": [lead], "back_query": "q=abc"}
    confirm = client.post("/tenant-a/leads/bulk", data, HTTP_HX_REQUEST="true")
    assert confirm.status_code == 200 and "<html" not in confirm.content.decode()
    refused = client.post("/tenant-a/leads/bulk", {"action": "return", "lead": [lead]}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 200 and "请说明原因" in refused.content.decode()  # htmx swaps only 2xx
    done = client.post("/tenant-a/leads/bulk", {**data, "confirmed": "1"}, HTTP_HX_REQUEST="true")
    assert done.status_code == 204 and done["HX-Redirect"] == "/tenant-a/leads?q=abc"
    evil = client.post("/tenant-a/leads/bulk", {**data, "confirmed": "1", "back_query": "//evil.test/x"},
                       HTTP_HX_REQUEST="true")
    assert evil["HX-Redirect"] == "/tenant-a/leads"  # only a query string of the list is followed


def test_the_list_costs_no_query_per_row(tenant_a, django_assert_max_num_queries):
    rep = rep_make(tenant_a, "rep@a.test")
    for _ in range(3):
        assigned_lead(tenant_a, rep.id)
    client = browser(tenant_a.owner.user)
    client.get("/tenant-a/leads")  # warm caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get("/tenant-a/leads")
    for _ in range(20):
        assigned_lead(tenant_a, rep.id)
    with CaptureQueriesContext(connection) as many:
        client.get("/tenant-a/leads")
    assert len(many.captured_queries) == len(few.captured_queries)


# --- masking ------------------------------------------------------------------------------------


@pytest.fixture
def masked_setup(tenant_a: CreatedTenant) -> dict[str, Any]:
    owner = rep_make(tenant_a, "owner@a.test")
    manager = rep_make(tenant_a, "manager@a.test", role=Role.MANAGER)
    with tenant_scope(tenant_a.tenant.id):
        pool = Pool.objects.get(is_default=True)
        Pool.objects.filter(id=pool.id).update(mask_contacts=True)
    lead = assigned_lead(tenant_a, owner.id, company="", email="zhang.wei@163.com", wechat="zhangwei88",
                         phone="010-62345678", mobile="13912340586")
    return {"owner": owner, "manager": manager, "lead": lead}


def test_masked_contacts_on_the_list_and_the_lead_page_for_a_member_who_does_not_own_the_lead(tenant_a, masked_setup):
    lead, manager, owner = masked_setup["lead"], masked_setup["manager"], masked_setup["owner"]
    page = browser(manager).get("/tenant-a/leads").content.decode()
    assert "139****0586" in page and "13912340586" not in page
    detail = browser(manager).get(f"/tenant-a/leads/{lead.id}").content.decode()
    assert "139****0586" in detail and "z****@163.com" in detail and "z****8" in detail
    assert "zhang.wei@163.com" not in detail and "zhangwei88" not in detail and "1391234" not in detail
    assert "139 1234 0586" not in detail

    for reader in (owner, tenant_a.owner.user):  # the owner and an admin see it whole
        detail = browser(reader).get(f"/tenant-a/leads/{lead.id}").content.decode()
        assert "139 1234 0586" in detail and "zhang.wei@163.com" in detail and "zhangwei88" in detail
    assert "+8613912340586" in browser(owner).get("/tenant-a/leads").content.decode()


def test_a_rep_who_does_not_own_a_masked_lead_gets_a_404(tenant_a, masked_setup):
    other = rep_make(tenant_a, "other@a.test")
    lead = masked_setup["lead"]
    assert browser(other).get(f"/tenant-a/leads/{lead.id}").status_code == 404
    api = APIClient()
    api.force_login(other)
    assert api.get(f"/api/v1/leads/{lead.id}").status_code == 404


def test_search_finds_a_masked_lead_only_by_a_whole_contact_and_shows_it_masked(tenant_a, masked_setup):
    client = browser(masked_setup["manager"])
    assert "139****0586" not in client.get("/tenant-a/leads?q=1391234").content.decode()
    assert "139****0586" not in client.get("/tenant-a/leads?q=zhang.wei").content.decode()
    whole = client.get("/tenant-a/leads?q=13912340586").content.decode()
    assert "139****0586" in whole and "+8613912340586" not in whole  # the typed query is echoed, the lead's number is not
    assert "测试客户" in client.get("/tenant-a/leads?q=测试客户").content.decode()
    # the owner still finds it by any part
    assert "+8613912340586" in browser(masked_setup["owner"]).get("/tenant-a/leads?q=1391234").content.decode()


def test_api_masks_for_members_who_do_not_own_the_lead_never_for_keys_or_admins(tenant_a, masked_setup, key_client):
    lead = masked_setup["lead"]

    def read(user: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        api = APIClient()
        api.force_login(user)
        one = api.get(f"/api/v1/leads/{lead.id}").json()
        listed = api.get("/api/v1/leads").json()["results"]
        return one, listed

    one, listed = read(masked_setup["manager"])
    assert (one["mobile"], one["email"], one["wechat"]) == ("+86139****0586", "z****@163.com", "z****8")
    assert one["phone"] == mask_digits(lead.phone) and "****" in one["phone"]
    assert listed[0]["mobile"] == "+86139****0586"
    api = APIClient()
    api.force_login(masked_setup["manager"])
    assert api.get("/api/v1/leads?q=1391234").json()["results"] == []
    assert api.get("/api/v1/leads?q=13912340586").json()["results"][0]["mobile"] == "+86139****0586"
    for user in (masked_setup["owner"], tenant_a.owner.user):
        one, listed = read(user)
        assert one["mobile"] == "+8613912340586" and one["email"] == "zhang.wei@163.com"
        assert listed[0]["wechat"] == "zhangwei88"
    by_key = key_client.get(f"/api/v1/leads/{lead.id}").json()
    assert by_key["mobile"] == "+8613912340586" and by_key["wechat"] == "zhangwei88"
