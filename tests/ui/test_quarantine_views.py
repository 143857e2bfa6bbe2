"""The quarantine pages through Django's test client: who may see and work them, filters and
counts, restore and purge as plain POST forms and through htmx, and English."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from leadcrm.tenancy.models import AuditLog, Role
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import CreatedTenant
from leads.models import IntakeRecord, IntakeStatus, Lead
from leads.quarantine import RESTORE_ACTION
from tests.conftest import add_member
from tests.factories import lead_make, next_mobile
from tests.leads.test_quarantine import quarantine

pytestmark = pytest.mark.django_db


def quarantine_url(created: CreatedTenant, suffix: str = "") -> str:
    return f"/{created.tenant.slug}/quarantine{suffix}"


def record_ids_in(response: Any) -> list[int]:
    return [int(i) for i in re.findall(r'id="intake-(\d+)"', response.content.decode())]


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def owner_client(tenant_a: CreatedTenant) -> Client:
    return client_for(tenant_a.owner.user)


@pytest.fixture
def records(tenant_a: CreatedTenant) -> dict[str, IntakeRecord]:
    return {
        "no_contact": quarantine(tenant_a, {"name": "钱七", "company": "星河传媒"}, channel="api"),
        "fake_mobile": quarantine(tenant_a, {"name": "孙八", "mobile": "13800000000", "email": "sun.ba@yunfan-tech.cn"}),
        "bad_email": quarantine(tenant_a, {"name": "周九", "email": "zhou@@qq.com"}, channel="import"),
        "sensitive": quarantine(tenant_a, {"name": "吴十", "mobile": next_mobile(), "notes": "可代开发票"}),
    }


# --- who may see it -----------------------------------------------------------------------------


def test_admin_sees_every_quarantined_submission_with_its_reasons_in_words(owner_client, tenant_a, records):
    response = owner_client.get(quarantine_url(tenant_a))
    assert response.status_code == 200
    html = response.content.decode()
    assert sorted(record_ids_in(response)) == sorted(r.id for r in records.values())
    for label in ("无联系方式", "手机号无效", "邮箱格式错误", "敏感词"):
        assert label in html
    assert "13800000000" in html and "sun.ba@yunfan-tech.cn" in html  # an admin judges the real values
    assert "星河传媒" in html and "文件导入" in html
    # why a sensitive-word record was stopped, without opening it: the words found, and the notes
    assert "命中：<mark>代开发票</mark>" in html and "可代开发票" in html
    assert html.count('name="waive"') == 4 and "确认恢复" in html and "确认清除所选" in html
    # the side navigation links the page
    assert f'href="{quarantine_url(tenant_a)}"' in html and 'aria-current="page"' in html


def test_manager_sees_the_list_with_contacts_masked_and_no_actions(tenant_a, records):
    manager = add_member(tenant_a, "manager@tenant-a.test", role=Role.MANAGER)
    client = client_for(manager.user)
    html = client.get(quarantine_url(tenant_a)).content.decode()
    assert "孙八" in html and "138****0000" in html and "s****@yunfan-tech.cn" in html
    assert "13800000000" not in html and "sun.ba@yunfan-tech.cn" not in html
    assert 'name="waive"' not in html and "清除所选" not in html
    detail = client.get(quarantine_url(tenant_a, f"/{records['fake_mobile'].id}")).content.decode()
    assert "138****0000" in detail and "13800000000" not in detail and "仅管理员可以恢复或清除" in detail
    response = client.post(quarantine_url(tenant_a, f"/{records['fake_mobile'].id}/restore"), {"waive": ["invalid.mobile"]})
    assert response.status_code == 403 and "只有管理员可以恢复或清除" in response.content.decode()
    assert client.post(quarantine_url(tenant_a, "/purge"), {"ids": [records["fake_mobile"].id]}).status_code == 403
    with tenant_scope(tenant_a.tenant.id):
        assert not Lead.objects.exists()
        assert not IntakeRecord.objects.exclude(status=IntakeStatus.QUARANTINED).exists()


@pytest.mark.parametrize("role", [Role.REP, Role.READ_ONLY])
def test_reps_and_read_only_members_get_a_clear_403_and_no_link(tenant_a, records, role):
    member = add_member(tenant_a, f"{role}@tenant-a.test", role=role)
    client = client_for(member.user)
    response = client.get(quarantine_url(tenant_a))
    assert response.status_code == 403
    assert "隔离区仅对管理员和销售经理开放" in response.content.decode()
    assert client.get(quarantine_url(tenant_a, f"/{records['bad_email'].id}")).status_code == 403
    response = client.post(quarantine_url(tenant_a, f"/{records['bad_email'].id}/restore"))
    assert response.status_code == 403
    leads_page = client.get(f"/{tenant_a.tenant.slug}/leads").content.decode()
    assert quarantine_url(tenant_a) not in leads_page
    with tenant_scope(tenant_a.tenant.id):
        assert not Lead.objects.exists()


def test_another_tenants_record_is_404_on_every_page(owner_client, tenant_b):
    foreign = quarantine(tenant_b, {"name": "别家"})
    for suffix in ("", "/restore", "/purge"):
        assert owner_client.get(f"/tenant-a/quarantine/{foreign.id}{suffix}").status_code == 404
    assert owner_client.post(f"/tenant-a/quarantine/{foreign.id}/restore").status_code == 404
    assert owner_client.post(f"/tenant-a/quarantine/{foreign.id}/purge").status_code == 404
    assert owner_client.get("/tenant-b/quarantine").status_code == 404
    owner_client.post("/tenant-a/quarantine/purge", {"ids": [foreign.id]})
    with tenant_scope(tenant_b.tenant.id):
        foreign.refresh_from_db()
        assert foreign.status == IntakeStatus.QUARANTINED and foreign.payload == {"name": "别家"}


# --- filters and counts -------------------------------------------------------------------------


def test_filters_by_reason_family_channel_status_date_and_text(owner_client, tenant_a, records):
    def ids(query: str) -> list[int]:
        return sorted(record_ids_in(owner_client.get(f"{quarantine_url(tenant_a)}?{query}")))

    assert ids("reason=invalid.mobile") == [records["fake_mobile"].id]
    assert ids("reason=invalid") == sorted([records["fake_mobile"].id, records["bad_email"].id])
    assert ids("channel=api") == [records["no_contact"].id]
    assert ids("channel=import&reason=invalid") == [records["bad_email"].id]
    assert ids("q=星河") == [records["no_contact"].id]
    assert ids("status=restored") == []
    assert ids("created_from=2000-01-01&created_to=2000-01-31") == []
    assert len(ids("created_from=2000-01-01")) == 4
    response = owner_client.get(f"{quarantine_url(tenant_a)}?created_from=yesterday&channel=form")
    html = response.content.decode()
    assert "开始日期格式应为" in html  # the wrong field says so; the valid one still filters
    assert sorted(record_ids_in(response)) == sorted([records["fake_mobile"].id, records["sensitive"].id])


def test_reason_chips_count_under_the_other_filters_and_filter_when_clicked(owner_client, tenant_a, records):
    html = owner_client.get(f"{quarantine_url(tenant_a)}?channel=form").content.decode()
    chips = dict(re.findall(r'data-reason="([^"]+)".*?q-chip-count">(\d+)<', html, flags=re.S))
    assert chips == {"invalid.mobile": "1", "sensitive_word": "1"}
    link = re.search(r'href="([^"]+)" data-reason="sensitive_word"', html)
    assert link is not None
    url = link.group(1).replace("&amp;", "&")
    assert "channel=form" in url and "reason=sensitive_word" in url
    assert record_ids_in(owner_client.get(url)) == [records["sensitive"].id]


def test_htmx_filter_returns_only_the_results_fragment(owner_client, tenant_a, records):
    response = owner_client.get(f"{quarantine_url(tenant_a)}?reason=no_contact", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200 and "HX-Request" in response["Vary"]
    assert html.lstrip().startswith('<section id="quarantine-results"') and "<html" not in html
    assert record_ids_in(response) == [records["no_contact"].id]


def test_empty_quarantine_says_so(owner_client, tenant_a):
    html = owner_client.get(quarantine_url(tenant_a)).content.decode()
    assert "隔离区是空的" in html


def test_purged_and_restored_records_leave_the_default_list_but_stay_countable(owner_client, tenant_a, records):
    owner_client.post(quarantine_url(tenant_a, f"/{records['bad_email'].id}/purge"))
    owner_client.post(quarantine_url(tenant_a, f"/{records['sensitive'].id}/restore"), {"waive": ["sensitive_word"]})
    assert sorted(record_ids_in(owner_client.get(quarantine_url(tenant_a)))) == sorted(
        [records["no_contact"].id, records["fake_mobile"].id]
    )
    everything = owner_client.get(f"{quarantine_url(tenant_a)}?status=all").content.decode()
    assert "（个人信息已清除）" in everything and "zhou@@qq.com" not in everything
    assert "邮箱格式错误" in everything  # the purged record's reason stays


# --- restore ------------------------------------------------------------------------------------


def test_restore_by_post_creates_the_lead_and_says_so_with_a_link(owner_client, tenant_a, records):
    record = records["sensitive"]
    response = owner_client.post(
        quarantine_url(tenant_a, f"/{record.id}/restore"), {"waive": ["sensitive_word"], "return_to": "channel=form"}
    )
    assert response.status_code == 302 and response["Location"] == f"{quarantine_url(tenant_a)}?channel=form"
    with tenant_scope(tenant_a.tenant.id):
        lead = Lead.objects.get()
        record.refresh_from_db()
        assert record.status == IntakeStatus.RESTORED and record.lead_id == lead.id
        assert AuditLog.objects.get(action=RESTORE_ACTION).actor_id == tenant_a.owner.user.id
    html = owner_client.get(response["Location"]).content.decode()
    assert "已恢复为新线索" in html and f'href="/tenant-a/leads/{lead.id}"' in html
    assert record.id not in record_ids_in(owner_client.get(response["Location"]))


def test_restore_with_htmx_answers_with_the_refreshed_list_and_the_message(owner_client, tenant_a, records):
    record = records["no_contact"]
    response = owner_client.post(
        quarantine_url(tenant_a, f"/{record.id}/restore"), {"waive": ["no_contact"], "return_to": ""},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith('<section id="quarantine-results"')
    assert "已恢复为新线索" in html and record.id not in record_ids_in(response)


def test_restore_into_a_known_contact_says_it_was_collected(owner_client, tenant_a):
    mobile = next_mobile()
    record = quarantine(tenant_a, {"name": "韩梅梅", "mobile": mobile, "notes": "博彩"})
    known = lead_make(tenant_a, name="韩梅梅", mobile=mobile)
    response = owner_client.post(quarantine_url(tenant_a, f"/{record.id}/restore"), {"waive": ["sensitive_word"]}, follow=True)
    html = response.content.decode()
    assert "已归集到现有线索" in html and f'href="/tenant-a/leads/{known.id}"' in html


def test_restore_that_would_be_quarantined_again_changes_nothing_and_offers_the_new_reason(owner_client, tenant_a, records):
    record = records["fake_mobile"]
    with tenant_scope(tenant_a.tenant.id):
        IntakeRecord.objects.filter(id=record.id).update(payload={**record.payload, "notes": "代开发票"})
    response = owner_client.post(quarantine_url(tenant_a, f"/{record.id}/restore"), {"waive": ["invalid.mobile"]})
    assert response.status_code == 302
    assert response["Location"] == quarantine_url(tenant_a, f"/{record.id}?also=sensitive_word")
    with tenant_scope(tenant_a.tenant.id):
        assert not Lead.objects.exists()
        record.refresh_from_db()
        assert record.status == IntakeStatus.QUARANTINED
    html = owner_client.get(response["Location"]).content.decode()
    assert "仍会因「敏感词」被隔离" in html and 'value="sensitive_word" checked' in html
    # htmx: the browser goes to the same page
    response = owner_client.post(
        quarantine_url(tenant_a, f"/{record.id}/restore"), {"waive": ["invalid.mobile"]}, headers={"HX-Request": "true"}
    )
    assert response["HX-Redirect"] == quarantine_url(tenant_a, f"/{record.id}?also=sensitive_word")
    owner_client.post(quarantine_url(tenant_a, f"/{record.id}/restore"), {"waive": ["invalid.mobile", "sensitive_word"]})
    with tenant_scope(tenant_a.tenant.id):
        assert Lead.objects.count() == 1


def test_restoring_a_restored_record_again_is_refused_with_a_message(owner_client, tenant_a, records):
    url = quarantine_url(tenant_a, f"/{records['bad_email'].id}/restore")
    owner_client.post(url, {"waive": ["invalid.email"]})
    response = owner_client.post(url, {"waive": ["invalid.email"]}, follow=True)
    assert "这条记录已经恢复过了" in response.content.decode()
    with tenant_scope(tenant_a.tenant.id):
        assert Lead.objects.count() == 1


def test_restore_get_is_the_confirm_step_on_the_record_page(owner_client, tenant_a, records):
    record = records["fake_mobile"]
    response = owner_client.get(quarantine_url(tenant_a, f"/{record.id}/restore"))
    assert response.status_code == 302 and response["Location"] == quarantine_url(tenant_a, f"/{record.id}")
    html = owner_client.get(response["Location"]).content.decode()
    assert "忽略勾选的隔离原因" in html and 'value="invalid.mobile" checked' in html
    assert "sun.ba@yunfan-tech.cn" in html and "13800000000" in html  # the whole payload
    with tenant_scope(tenant_a.tenant.id):
        assert not Lead.objects.exists()


# --- purge --------------------------------------------------------------------------------------


def test_purge_one_and_purge_selected(owner_client, tenant_a, records):
    response = owner_client.post(quarantine_url(tenant_a, f"/{records['no_contact'].id}/purge"), follow=True)
    assert "已清除这条提交的个人信息" in response.content.decode()
    owner_client.post(quarantine_url(tenant_a, f"/{records['sensitive'].id}/restore"), {"waive": ["sensitive_word"]})
    response = owner_client.post(
        quarantine_url(tenant_a, "/purge"),
        {"ids": [records["fake_mobile"].id, records["bad_email"].id, records["sensitive"].id], "return_to": "status=all"},
    )
    assert response["Location"] == f"{quarantine_url(tenant_a)}?status=all"
    html = owner_client.get(response["Location"]).content.decode()
    assert "已清除 2 条提交的个人信息" in html and "1 条已恢复或已清除的记录未做改动" in html
    with tenant_scope(tenant_a.tenant.id):
        statuses = dict(IntakeRecord.objects.values_list("id", "status"))
    assert statuses == {
        records["no_contact"].id: "purged", records["fake_mobile"].id: "purged", records["bad_email"].id: "purged",
        records["sensitive"].id: "restored",
    }


def test_purge_selected_with_nothing_ticked_says_what_to_do(owner_client, tenant_a, records):
    response = owner_client.post(quarantine_url(tenant_a, "/purge"), {"ids": ["", "x"]}, follow=True)
    assert "请先勾选要清除的记录" in response.content.decode()


# --- English ------------------------------------------------------------------------------------


def test_the_page_speaks_english(owner_client, tenant_a, records):
    owner_client.post("/i18n/setlang/", {"language": "en", "next": quarantine_url(tenant_a)})
    html = owner_client.get(quarantine_url(tenant_a)).content.decode()
    assert "Quarantine" in html and "No contact method" in html and "Invalid mobile" in html
    assert "Sensitive word" in html and "Confirm restore" in html
    assert "无联系方式" not in html
