"""The admins' duplicate-rule and company-alias pages, and what a lead's page says about its
duplicates: rules listed in order, added, edited, moved and switched off, bad rules explained
next to their field with nothing changed, reps kept out."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from leadcrm.tenancy.models import AuditLog, Role
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import CreatedTenant
from leads.dedup_services import company_alias_create
from leads.models import CompanyAlias, DedupConfig, DedupRule, Lead, LeadSubmission
from tests.conftest import add_member
from tests.factories import lead_make, next_mobile

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client(tenant_a: CreatedTenant) -> Client:
    client = Client()
    client.force_login(tenant_a.owner.user)
    return client


def rules_url(created: CreatedTenant) -> str:
    return f"/{created.tenant.slug}/settings/dedup"


def rule_url(created: CreatedTenant, rule: DedupRule) -> str:
    return f"/{created.tenant.slug}/settings/dedup/{rule.id}"


def rules(created: CreatedTenant) -> list[tuple[int, str, bool]]:
    with tenant_scope(created.tenant.id):
        return list(DedupRule.objects.order_by("position").values_list("position", "name", "is_active"))


def version(created: CreatedTenant) -> int:
    with tenant_scope(created.tenant.id):
        return DedupConfig.objects.get().version


def rule_named(created: CreatedTenant, name: str) -> DedupRule:
    with tenant_scope(created.tenant.id):
        return DedupRule.objects.get(name=name)


NEW_RULE = {"name": "微信号相同", "conditions": ["wechat"], "compare_with": "leads", "window_days": "90",
            "action": "collect", "is_active": "on"}


def test_the_page_lists_the_rules_in_order_with_what_they_do(owner_client, tenant_a):
    html = owner_client.get(rules_url(tenant_a)).content.decode()
    positions = [html.index(name) for _, name, _ in rules(tenant_a)]
    assert positions == sorted(positions)
    for text in ("手机", "180 天内", "归集到源线索（不新建）", "新建并交给原负责人跟进", "公司（模糊匹配）", "联系人姓名",
                 "不会形成循环"):
        assert text in html, text
    assert "查重规则" in owner_client.get(f"/{tenant_a.tenant.slug}/leads").content.decode()  # in the navigation


def test_reps_and_managers_cannot_open_the_settings(tenant_a):
    for role in (Role.REP, Role.MANAGER, Role.READ_ONLY):
        member = add_member(tenant_a, f"{role}@tenant-a.test", role)
        client = Client()
        client.force_login(member.user)
        assert client.get(rules_url(tenant_a)).status_code == 404
        assert client.post(rules_url(tenant_a), NEW_RULE).status_code == 404
        assert client.get(f"/{tenant_a.tenant.slug}/settings/company-aliases").status_code == 404
        assert "settings/dedup" not in client.get(f"/{tenant_a.tenant.slug}/leads").content.decode()
    assert len(rules(tenant_a)) == 3


def test_adding_a_rule_puts_it_last_audits_it_and_bumps_the_version(owner_client, tenant_a):
    before = version(tenant_a)
    response = owner_client.post(rules_url(tenant_a), NEW_RULE)
    assert response.status_code == 302
    assert rules(tenant_a)[-1] == (4, "微信号相同", True)
    assert version(tenant_a) > before
    assert "已添加规则「微信号相同」" in owner_client.get(response["Location"]).content.decode()
    with tenant_scope(tenant_a.tenant.id):
        audit = AuditLog.objects.get(action="dedup_rule.create")
    assert audit.actor_id == tenant_a.owner.user_id and audit.changes["conditions"] == ["wechat"]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"conditions": []}, "conditions", "规则没有任何条件"),
        ({"conditions": ["wechat", "qq"]}, "conditions", "未知字段：qq"),
        ({"conditions": ["name"]}, "conditions", "姓名不能单独作为条件"),
        ({"window_days": "0"}, "window_days", "时间范围应在 1 到 3650 天之间"),
        ({"window_days": "9999"}, "window_days", "时间范围应在 1 到 3650 天之间"),
        ({"window_days": "半年"}, "window_days", "时间范围应为 1–3650 天的整数"),
        ({"name": ""}, "name", "请给规则起个名字"),
        ({"action": "merge"}, "action", "处理方式应为以下之一"),
        ({"compare_with": "contacts"}, "action", "归集需要一条源线索"),
        ({"conditions": ["mobile"], "window_days": "180", "name": "另一个手机号规则"}, "conditions", "完全相同"),
        ({"name": "手机号相同（180 天内）"}, "name", "已有一条名为"),
    ],
)
def test_a_bad_rule_is_explained_next_to_its_field_and_nothing_changes(owner_client, tenant_a, change, field, message):
    before, before_version = rules(tenant_a), version(tenant_a)
    response = owner_client.post(rules_url(tenant_a), {**NEW_RULE, **change})
    assert response.status_code == 400
    assert message in _field_block(response.content.decode(), field)  # next to its field
    assert rules(tenant_a) == before and version(tenant_a) == before_version


def _field_block(html: str, field: str) -> str:
    """The form's element holding `field`'s input (and its messages)."""
    at = html.index(f'name="{field}"', html.index('id="add-rule"'))
    start = max(html.rfind('<label class="field', 0, at), html.rfind("<fieldset", 0, at))
    closing = "</fieldset>" if html.startswith("<fieldset", start) else "</label>"
    return html[start : html.index(closing, at)]


def test_moving_a_rule_up_and_down_reorders_and_the_ends_stay_put(owner_client, tenant_a):
    first, second, third = (name for _, name, _ in rules(tenant_a))
    owner_client.post(rule_url(tenant_a, rule_named(tenant_a, third)), {"op": "up"})
    assert [name for _, name, _ in rules(tenant_a)] == [first, third, second]
    owner_client.post(rule_url(tenant_a, rule_named(tenant_a, first)), {"op": "down"})
    assert [name for _, name, _ in rules(tenant_a)] == [third, first, second]
    owner_client.post(rule_url(tenant_a, rule_named(tenant_a, third)), {"op": "up"})  # first already
    owner_client.post(rule_url(tenant_a, rule_named(tenant_a, second)), {"op": "down"})  # last already
    assert [p for p, _, _ in rules(tenant_a)] == [1, 2, 3]
    assert [name for _, name, _ in rules(tenant_a)] == [third, first, second]


def test_switching_a_rule_off_and_on(owner_client, tenant_a):
    rule = rule_named(tenant_a, "邮箱相同（180 天内）")
    owner_client.post(rule_url(tenant_a, rule), {"op": "disable"})
    assert rules(tenant_a)[1][2] is False
    assert "已停用" in owner_client.get(rules_url(tenant_a)).content.decode()
    owner_client.post(rule_url(tenant_a, rule), {"op": "enable"})
    assert rules(tenant_a)[1][2] is True


def test_editing_and_deleting_a_rule(owner_client, tenant_a):
    rule = rule_named(tenant_a, "邮箱相同（180 天内）")
    page = owner_client.get(rule_url(tenant_a, rule)).content.decode()
    assert 'value="邮箱相同（180 天内）"' in page and 'value="email" checked' in page
    response = owner_client.post(rule_url(tenant_a, rule), {**NEW_RULE, "name": "邮箱（一年内）", "conditions": ["email"],
                                                            "window_days": "365"})
    assert response.status_code == 302
    with tenant_scope(tenant_a.tenant.id):
        rule.refresh_from_db()
    assert (rule.name, rule.window_days, rule.position) == ("邮箱（一年内）", 365, 2)
    bad = owner_client.post(rule_url(tenant_a, rule), {**NEW_RULE, "conditions": []})
    assert bad.status_code == 400 and "规则没有任何条件" in bad.content.decode()
    owner_client.post(rule_url(tenant_a, rule), {"op": "delete"})
    assert [(p, name) for p, name, _ in rules(tenant_a)] == [(1, "手机号相同（180 天内）"), (2, "公司相同且联系人相同（180 天内）")]


def test_the_rules_page_in_english(owner_client, tenant_a):
    owner_client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = owner_client.get(rules_url(tenant_a)).content.decode()
    for text in ("Duplicate rules", "Collect into the source lead (no new lead)", "Company (fuzzy)", "within 180 days"):
        assert text in html, text
    bad = owner_client.post(rules_url(tenant_a), {**NEW_RULE, "conditions": []}).content.decode()
    assert "The rule has no conditions" in bad


# --- company aliases -------------------------------------------------------------------------------


def test_aliases_are_added_explained_when_wrong_and_deleted(owner_client, tenant_a):
    url = f"/{tenant_a.tenant.slug}/settings/company-aliases"
    assert owner_client.post(url, {"alias": "纷享销客", "company": "北京纷扬科技有限公司"}).status_code == 302
    html = owner_client.get(url).content.decode()
    assert "纷享销客" in html and "北京纷扬科技有限公司" in html
    again = owner_client.post(url, {"alias": "紛享銷客", "company": "上海鼎安餐饮管理有限公司"})
    assert again.status_code == 400 and "已经是“北京纷扬科技有限公司”的别名" in again.content.decode()
    same = owner_client.post(url, {"alias": "纷扬科技", "company": "北京纷扬科技有限公司"})
    assert same.status_code == 400 and "不需要别名" in same.content.decode()
    empty = owner_client.post(url, {"alias": "", "company": ""})
    assert empty.status_code == 400 and "请填写别名" in empty.content.decode() and "请填写对应的公司" in empty.content.decode()
    with tenant_scope(tenant_a.tenant.id):
        alias = CompanyAlias.objects.get()
    assert owner_client.post(url, {"delete": str(alias.id)}).status_code == 302
    with tenant_scope(tenant_a.tenant.id):
        assert not CompanyAlias.objects.exists()


def test_another_tenants_alias_cannot_be_deleted(owner_client, tenant_a, tenant_b):
    with tenant_scope(tenant_b.tenant.id):
        theirs = company_alias_create(tenant=tenant_b.tenant, alias="纷享销客", company="北京纷扬科技有限公司")
    response = owner_client.post(f"/{tenant_a.tenant.slug}/settings/company-aliases", {"delete": str(theirs.id)})
    assert response.status_code == 404
    with tenant_scope(tenant_b.tenant.id):
        assert CompanyAlias.objects.filter(id=theirs.id).exists()


# --- the lead's page -------------------------------------------------------------------------------


def _with_duplicates(created: CreatedTenant, rep: Any, other: Any) -> tuple[Lead, Lead, Lead]:
    source = lead_make(created, name="王萱强", company="天津合汇软件股份有限公司", owner_id=rep.user_id)
    # the default company rule routes it to the source's owner: the rep sees it
    routed = lead_make(created, name="王 萱强", company="合汇软件")
    # another rep's duplicate (handed over after intake): the rep may not see it
    hidden = lead_make(created, name="王萱强", company="合汇软件有限公司")
    with tenant_scope(created.tenant.id):
        Lead.objects.filter(id=hidden.id).update(owner_id=other.user_id)
    lead_make(created, name="王萱强", mobile=source.mobile.removeprefix("+86"), source="抖音")  # collected
    return source, routed, hidden


def test_the_lead_page_shows_its_duplicates_the_rule_and_the_collected_submissions(owner_client, tenant_a):
    rep = add_member(tenant_a, "rep@tenant-a.test", Role.REP, name="小王")
    other = add_member(tenant_a, "other@tenant-a.test", Role.REP, name="小李")
    source, routed, hidden = _with_duplicates(tenant_a, rep, other)
    html = owner_client.get(f"/{tenant_a.tenant.slug}/leads/{source.id}").content.decode()
    assert f"/leads/{routed.id}" in html and f"/leads/{hidden.id}" in html
    assert "规则：公司相同且联系人相同（180 天内）" in html
    assert "归集的提交" in html and "手机号相同（180 天内）" in html and "抖音" in html
    duplicate_html = owner_client.get(f"/{tenant_a.tenant.slug}/leads/{routed.id}").content.decode()
    assert "疑似重复于" in duplicate_html and f"/leads/{source.id}" in duplicate_html
    assert "命中规则：公司相同且联系人相同（180 天内）" in duplicate_html


def test_a_rep_sees_only_the_duplicates_they_may_see(tenant_a):
    rep = add_member(tenant_a, "rep@tenant-a.test", Role.REP, name="小王")
    other = add_member(tenant_a, "other@tenant-a.test", Role.REP, name="小李")
    source, routed, hidden = _with_duplicates(tenant_a, rep, other)
    client = Client()
    client.force_login(rep.user)
    html = client.get(f"/{tenant_a.tenant.slug}/leads/{source.id}").content.decode()
    assert f"/leads/{routed.id}" in html and f"/leads/{hidden.id}" not in html
    assert client.get(f"/{tenant_a.tenant.slug}/leads/{hidden.id}").status_code == 404


def test_a_deleted_rule_is_still_named_on_collected_submissions(owner_client, tenant_a):
    source = lead_make(tenant_a, name="张三")
    lead_make(tenant_a, name="张三", mobile=source.mobile.removeprefix("+86"))
    rule = rule_named(tenant_a, "手机号相同（180 天内）")
    owner_client.post(rule_url(tenant_a, rule), {"op": "delete"})
    with tenant_scope(tenant_a.tenant.id):
        assert LeadSubmission.objects.get().dedup_rule_id is None
    assert "手机号相同（180 天内）" in owner_client.get(f"/{tenant_a.tenant.slug}/leads/{source.id}").content.decode()


def test_a_customers_contact_duplicate_names_the_customer(owner_client, tenant_a):
    from leads.dedup_services import dedup_rule_create
    from leads.services import contact_create, customer_create

    with tenant_scope(tenant_a.tenant.id):
        dedup_rule_create(tenant=tenant_a.tenant, data={"name": "客户联系人邮箱", "conditions": ["email"],
                                                        "compare_with": "contacts", "action": "tag", "position": 1})
        customer = customer_create(tenant=tenant_a.tenant, name="北京纷扬科技有限公司")
        contact_create(tenant=tenant_a.tenant, customer=customer, name="林晓峰", email="lin@fenyang.cn")
    lead = lead_make(tenant_a, name="林晓峰", email="lin@fenyang.cn", mobile=next_mobile())
    html = owner_client.get(f"/{tenant_a.tenant.slug}/leads/{lead.id}").content.decode()
    assert "与客户「北京纷扬科技有限公司」的联系人重复" in html and "命中规则：客户联系人邮箱" in html
