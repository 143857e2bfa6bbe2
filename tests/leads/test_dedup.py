"""Duplicate rules as intake applies them (SPEC §3): the five actions, windows, what a rule
compares with, order, aliases, and the company examples of the seed document."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from leadcrm.tenancy.models import AuditLog, Role
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import CreatedTenant
from leads.dedup_rules import DUPLICATE_TAG
from leads.dedup_services import company_alias_create, dedup_rule_create, dedup_rule_delete, dedup_rule_update
from leads.intake import IntakeCommitted, IntakeOutcome, intake_hook_register, lead_intake, lead_intake_many
from leads.intake.hooks import intake_hook_unregister
from leads.models import (
    DUPLICATE_NOTICE_ACTION,
    OWNER_CHANGE_ACTION,
    Contact,
    DedupConfig,
    DedupRule,
    Lead,
    LeadSubmission,
    OwnerChangeReason,
)
from leads.services import contact_create, customer_create
from tests.conftest import add_member
from tests.factories import lead_make, next_mobile

pytestmark = pytest.mark.django_db


def use_rules(created: CreatedTenant, *rules: dict[str, Any]) -> list[DedupRule]:
    """Replace the tenant's rules with these, in this order."""
    with tenant_scope(created.tenant.id):
        for rule in DedupRule.objects.all():
            dedup_rule_delete(tenant=created.tenant, rule_id=rule.id)
        return [
            dedup_rule_create(tenant=created.tenant, data={"compare_with": "leads", "window_days": 180, **rule})
            for rule in rules
        ]


def submit(created: CreatedTenant, **payload: Any) -> IntakeOutcome:
    with tenant_scope(created.tenant.id):
        return lead_intake(tenant=created.tenant, payload=payload, channel="api")


def reload(created: CreatedTenant, lead: Lead) -> Lead:
    with tenant_scope(created.tenant.id):
        return Lead.objects.get(id=lead.id)


def age(created: CreatedTenant, lead: Lead, days: int) -> None:
    with tenant_scope(created.tenant.id):
        Lead.objects.filter(id=lead.id).update(created_at=timezone.now() - timedelta(days=days))


@pytest.fixture
def rep(tenant_a: CreatedTenant) -> Any:
    return add_member(tenant_a, "rep@tenant-a.test", Role.REP, name="李销售")


@pytest.fixture
def other_rep(tenant_a: CreatedTenant) -> Any:
    return add_member(tenant_a, "other@tenant-a.test", Role.REP, name="赵销售")


@pytest.fixture
def committed() -> Any:
    events: list[IntakeCommitted] = []
    intake_hook_register(name="test.dedup.committed", when="committed", hook=events.append)
    yield events
    intake_hook_unregister(name="test.dedup.committed")


# --- defaults ------------------------------------------------------------------------------------


def test_a_new_tenant_gets_the_default_rules_of_api_md(tenant_a):
    with tenant_scope(tenant_a.tenant.id):
        rules = list(DedupRule.objects.order_by("position").values_list(
            "position", "conditions", "compare_with", "window_days", "action", "is_active"
        ))
        assert DedupConfig.objects.get().version >= 1
    assert rules == [
        (1, ["mobile"], "leads", 180, "collect", True),
        (2, ["email"], "leads", 180, "collect", True),
        (3, ["company", "name"], "leads", 180, "route_to_owner", True),
    ]


def test_an_english_speaking_tenant_gets_the_default_rules_named_in_english(db):
    from leadcrm.tenancy.services import tenant_create

    created = tenant_create(slug="acme", name="Acme", admin_email="owner@acme.test", admin_password="Pass-word-9",
                            locale="en")
    with tenant_scope(created.tenant.id):
        names = list(DedupRule.objects.order_by("position").values_list("name", flat=True))
    assert names == ["Same mobile (within 180 days)", "Same e-mail (within 180 days)",
                     "Same company and contact (within 180 days)"]


def test_the_default_company_rule_tags_links_and_routes_to_the_existing_owner_as_before(tenant_a, rep):
    first = lead_make(tenant_a, name="王萱强", company="天津合汇软件股份有限公司", owner_id=rep.user_id)
    outcome = submit(tenant_a, name="王萱强", company="合汇软件", mobile=next_mobile())
    assert outcome.outcome == "created" and outcome.lead is not None
    lead = reload(tenant_a, outcome.lead)
    assert lead.duplicate_of_id == first.id
    assert lead.tags == [DUPLICATE_TAG]
    assert lead.owner_id == rep.user_id and lead.owner_assigned_at is not None
    assert lead.duplicate_rule_id is not None
    with tenant_scope(tenant_a.tenant.id):
        assert DedupRule.objects.get(id=lead.duplicate_rule_id).name == "公司相同且联系人相同（180 天内）"
        audit = AuditLog.objects.get(action=OWNER_CHANGE_ACTION, object_id=str(lead.id))
    assert audit.changes == {"from": None, "to": rep.user_id, "reason": OwnerChangeReason.DUPLICATE_OF}


def test_the_default_mobile_rule_collects_with_its_rule_on_the_submission(tenant_a):
    first = lead_make(tenant_a, name="张三")
    outcome = submit(tenant_a, name="张三", mobile=first.mobile, source="抖音")
    assert outcome.outcome == "merged" and outcome.lead is not None and outcome.lead.id == first.id
    with tenant_scope(tenant_a.tenant.id):
        submission = LeadSubmission.objects.get()
        rule = DedupRule.objects.get(position=1)
    assert submission.lead_id == first.id and submission.payload["source"] == "抖音"
    assert submission.dedup_rule_id == rule.id and submission.rule == rule.name


# --- the five actions ------------------------------------------------------------------------------


def test_route_to_owner_gives_the_new_lead_to_the_existing_owner(tenant_a, rep):
    use_rules(tenant_a, {"name": "微信相同", "conditions": ["wechat"], "action": "route_to_owner"})
    first = lead_make(tenant_a, wechat="wx_fenyang", owner_id=rep.user_id)
    outcome = submit(tenant_a, name="新客户", wechat="wx_fenyang", mobile=next_mobile())
    assert outcome.outcome == "created" and outcome.lead is not None
    lead = reload(tenant_a, outcome.lead)
    assert (lead.duplicate_of_id, lead.owner_id, lead.tags) == (first.id, rep.user_id, [DUPLICATE_TAG])


def test_route_to_owner_without_an_owner_leaves_the_lead_for_assignment(tenant_a, committed, django_capture_on_commit_callbacks):
    first = lead_make(tenant_a, name="王萱强", company="天津合汇软件股份有限公司")
    with django_capture_on_commit_callbacks(execute=True):
        outcome = submit(tenant_a, name="王萱强", company="合汇软件", mobile=next_mobile())
    assert outcome.lead is not None and outcome.lead.owner_id is None and outcome.lead.duplicate_of_id == first.id
    (event,) = committed
    assert event.to_assign_ids == [outcome.lead.id]
    (decision,) = event.dedup
    assert (decision.action, decision.duplicate_of_id, decision.owner_id) == ("route_to_owner", first.id, None)


def test_assign_links_the_duplicate_and_leaves_it_unowned_for_the_normal_assignment(
    tenant_a, rep, committed, django_capture_on_commit_callbacks
):
    use_rules(tenant_a, {"name": "公司+姓名", "conditions": ["company", "name"], "action": "assign"})
    first = lead_make(tenant_a, name="王萱强", company="天津合汇软件股份有限公司", owner_id=rep.user_id)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = submit(tenant_a, name="王萱强", company="合汇软件有限公司", mobile=next_mobile())
    assert outcome.outcome == "created" and outcome.lead is not None
    lead = reload(tenant_a, outcome.lead)
    assert (lead.duplicate_of_id, lead.owner_id, lead.tags) == (first.id, None, [DUPLICATE_TAG])
    (event,) = committed
    assert event.to_assign_ids == [lead.id] and event.dedup[0].action == "assign"


def test_collect_keeps_no_new_lead_and_the_submission_on_the_source(tenant_a):
    use_rules(tenant_a, {"name": "公司+姓名归集", "conditions": ["company", "name"], "action": "collect"})
    first = lead_make(tenant_a, name="王萱强", company="天津合汇软件股份有限公司")
    outcome = submit(tenant_a, name="王 萱强", company="合汇软件", mobile=next_mobile(), campaign="春季展会")
    assert outcome.outcome == "merged" and outcome.lead is not None and outcome.lead.id == first.id
    assert outcome.rule == "公司+姓名归集"
    with tenant_scope(tenant_a.tenant.id):
        assert Lead.objects.count() == 1
        assert LeadSubmission.objects.get().payload["campaign"] == "春季展会"


def test_tag_keeps_the_new_lead_tagged_and_linked_without_an_owner(tenant_a, rep):
    use_rules(tenant_a, {"name": "手机号相同只标记", "conditions": ["mobile"], "action": "tag", "window_days": None})
    first = lead_make(tenant_a, owner_id=rep.user_id)
    outcome = submit(tenant_a, name="另一个人", mobile=first.mobile)
    assert outcome.outcome == "created" and outcome.lead is not None
    lead = reload(tenant_a, outcome.lead)
    assert (lead.duplicate_of_id, lead.owner_id, lead.tags) == (first.id, None, [DUPLICATE_TAG])
    assert lead.duplicate_rule_id is not None


def test_update_and_reown_updates_the_lead_and_gives_it_to_the_customers_owner_telling_the_previous_one(
    tenant_a, rep, other_rep, django_capture_on_commit_callbacks
):
    use_rules(tenant_a, {"name": "老客户再次进入", "conditions": ["mobile"], "action": "update_and_reown",
                         "compare_with": "both"})
    lead = lead_make(tenant_a, name="王萱强", title="工程师", owner_id=rep.user_id, email="old@hehui.cn")
    with tenant_scope(tenant_a.tenant.id):
        customer = customer_create(tenant=tenant_a.tenant, name="天津合汇软件股份有限公司", owner=other_rep.user)
        contact_create(tenant=tenant_a.tenant, customer=customer, name="王萱强", mobile=lead.mobile)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = submit(tenant_a, name="王萱强", mobile=lead.mobile, title="技术总监", email="", company="合汇软件")
    assert outcome.outcome == "updated" and outcome.lead is not None and outcome.lead.id == lead.id
    updated = reload(tenant_a, lead)
    # the submission's non-empty key fields overwrite; empty ones leave the lead's alone
    assert (updated.title, updated.company, updated.email) == ("技术总监", "合汇软件", "old@hehui.cn")
    assert updated.company_brand == "合汇" and updated.owner_id == other_rep.user_id
    with tenant_scope(tenant_a.tenant.id):
        assert Lead.objects.count() == 1
        assert LeadSubmission.objects.get().lead_id == lead.id  # the submission itself is kept
        change = AuditLog.objects.get(action=OWNER_CHANGE_ACTION, object_id=str(lead.id),
                                      changes__reason=OwnerChangeReason.CUSTOMER_OWNER)
        notice = AuditLog.objects.get(action=DUPLICATE_NOTICE_ACTION, object_id=str(lead.id))
    assert change.changes["from"] == rep.user_id and change.changes["to"] == other_rep.user_id
    assert notice.changes["notified"] == rep.user_id
    (message,) = mail.outbox
    assert message.to == ["rep@tenant-a.test"] and f"#{lead.id}" in message.subject


def test_update_and_reown_on_a_contact_alone_updates_it_and_gives_a_new_lead_to_the_customers_owner(tenant_a, other_rep):
    use_rules(tenant_a, {"name": "客户联系人", "conditions": ["email"], "action": "update_and_reown",
                         "compare_with": "contacts"})
    with tenant_scope(tenant_a.tenant.id):
        customer = customer_create(tenant=tenant_a.tenant, name="北京纷扬科技有限公司", owner=other_rep.user)
        contact = contact_create(tenant=tenant_a.tenant, customer=customer, name="林晓峰", email="lin@fenyang.cn")
    mobile = next_mobile()
    outcome = submit(tenant_a, name="林晓峰", email="LIN@fenyang.cn", mobile=mobile)
    assert outcome.outcome == "created" and outcome.lead is not None
    lead = reload(tenant_a, outcome.lead)
    assert (lead.owner_id, lead.duplicate_customer_id, lead.duplicate_of_id) == (other_rep.user_id, customer.id, None)
    with tenant_scope(tenant_a.tenant.id):
        assert Contact.objects.get(id=contact.id).mobile == f"+86{mobile}"


# --- what a rule compares with, windows, order ---------------------------------------------------


def test_a_rule_comparing_contacts_routes_to_the_customers_owner(tenant_a, rep, other_rep):
    use_rules(tenant_a, {"name": "客户联系人手机号", "conditions": ["mobile"], "action": "route_to_owner",
                         "compare_with": "contacts"})
    known = lead_make(tenant_a, owner_id=rep.user_id)  # a lead with the mobile: not compared
    with tenant_scope(tenant_a.tenant.id):
        customer = customer_create(tenant=tenant_a.tenant, name="上海鼎安餐饮管理有限公司", owner=other_rep.user)
        contact_create(tenant=tenant_a.tenant, customer=customer, name="李娜", mobile=known.mobile)
    outcome = submit(tenant_a, name="李娜", mobile=known.mobile)
    assert outcome.outcome == "created" and outcome.lead is not None
    lead = reload(tenant_a, outcome.lead)
    assert (lead.owner_id, lead.duplicate_customer_id, lead.duplicate_of_id) == (other_rep.user_id, customer.id, None)


def test_a_company_and_name_rule_compares_the_customers_company_and_its_contacts_names(tenant_a, other_rep):
    use_rules(tenant_a, {"name": "客户公司+联系人", "conditions": ["company", "name"], "action": "route_to_owner",
                         "compare_with": "both"})
    with tenant_scope(tenant_a.tenant.id):
        customer = customer_create(tenant=tenant_a.tenant, name="北京纷扬科技有限公司", owner=other_rep.user)
        contact_create(tenant=tenant_a.tenant, customer=customer, name="林晓峰", email="lin@fenyang.cn")
    matched = submit(tenant_a, name="林晓峰", company="纷扬科技", mobile=next_mobile())
    another_person = submit(tenant_a, name="王伟", company="纷扬科技", mobile=next_mobile())
    assert matched.lead is not None and another_person.lead is not None
    assert matched.lead.owner_id == other_rep.user_id and matched.customer_id == customer.id
    assert another_person.lead.owner_id is None and another_person.rule == ""


def test_a_lead_older_than_the_window_does_not_match(tenant_a):
    old = lead_make(tenant_a, name="张三")
    age(tenant_a, old, days=181)
    assert submit(tenant_a, name="张三", mobile=old.mobile).outcome == "created"
    recent = lead_make(tenant_a, name="李四")
    age(tenant_a, recent, days=179)
    assert submit(tenant_a, name="李四", mobile=recent.mobile).outcome == "merged"


def test_a_rule_without_a_window_matches_any_time(tenant_a):
    use_rules(tenant_a, {"name": "手机号（不限时间）", "conditions": ["mobile"], "action": "collect", "window_days": None})
    old = lead_make(tenant_a)
    age(tenant_a, old, days=3000)
    outcome = submit(tenant_a, mobile=old.mobile)
    assert outcome.outcome == "merged" and outcome.lead is not None and outcome.lead.id == old.id


def test_the_first_matching_rule_by_position_wins(tenant_a, rep):
    _by_mobile, by_company = use_rules(
        tenant_a,
        {"name": "手机号归集", "conditions": ["mobile"], "action": "collect"},
        {"name": "公司+姓名只标记", "conditions": ["company", "name"], "action": "tag"},
    )
    first = lead_make(tenant_a, name="王萱强", company="天津合汇软件股份有限公司")
    assert submit(tenant_a, name="王萱强", company="合汇软件", mobile=first.mobile).outcome == "merged"
    with tenant_scope(tenant_a.tenant.id):
        dedup_rule_update(tenant=tenant_a.tenant, rule_id=by_company.id, data={"position": 1})
    outcome = submit(tenant_a, name="王萱强", company="合汇软件", mobile=first.mobile)
    assert outcome.outcome == "created" and outcome.rule == "公司+姓名只标记"


def test_inactive_rules_are_skipped(tenant_a):
    (by_mobile,) = use_rules(tenant_a, {"name": "手机号归集", "conditions": ["mobile"], "action": "collect"})
    first = lead_make(tenant_a)
    with tenant_scope(tenant_a.tenant.id):
        dedup_rule_update(tenant=tenant_a.tenant, rule_id=by_mobile.id, data={"is_active": False})
    outcome = submit(tenant_a, mobile=first.mobile)
    assert outcome.outcome == "created" and outcome.lead is not None and outcome.lead.duplicate_of_id is None


def test_an_empty_value_never_matches(tenant_a):
    use_rules(tenant_a, {"name": "邮箱", "conditions": ["email"], "action": "collect"},
              {"name": "公司", "conditions": ["company"], "action": "tag"})
    lead_make(tenant_a, name="无邮箱")
    assert submit(tenant_a, name="也无邮箱", mobile=next_mobile()).outcome == "created"


def test_a_combined_rule_needs_every_condition_on_the_same_record(tenant_a):
    use_rules(tenant_a, {"name": "公司+座机", "conditions": ["company", "phone"], "action": "tag"})
    first = lead_make(tenant_a, company="北京纷扬科技有限公司", phone="010-62718394")
    lead_make(tenant_a, company="上海鼎安餐饮管理有限公司", phone="010-62718395")
    same = submit(tenant_a, company="纷扬科技", phone="(010) 6271 8394", mobile=next_mobile())
    other_phone = submit(tenant_a, company="纷扬科技", phone="010-62718395", mobile=next_mobile())
    assert same.lead is not None and same.lead.duplicate_of_id == first.id
    assert other_phone.lead is not None and other_phone.lead.duplicate_of_id is None


def test_a_company_rule_alone_matches_anyone_at_the_company(tenant_a, rep):
    use_rules(tenant_a, {"name": "同公司交给原负责人", "conditions": ["company"], "action": "route_to_owner"})
    first = lead_make(tenant_a, name="王伟", company="北京纷扬科技有限公司", owner_id=rep.user_id)
    outcome = submit(tenant_a, name="李娜", company="纷扬科技（北京）有限公司", mobile=next_mobile())
    assert outcome.lead is not None and (outcome.lead.duplicate_of_id, outcome.lead.owner_id) == (first.id, rep.user_id)
    assert submit(tenant_a, name="李娜", company="北京纷享科技有限公司", mobile=next_mobile()).rule == ""


def test_a_change_of_rules_takes_effect_at_the_next_submission(tenant_a):
    first = lead_make(tenant_a)
    assert submit(tenant_a, mobile=first.mobile).outcome == "merged"
    use_rules(tenant_a, {"name": "邮箱", "conditions": ["email"], "action": "collect"})
    assert submit(tenant_a, mobile=first.mobile).outcome == "created"


def test_rules_never_run_again_on_what_an_action_did(tenant_a, rep, other_rep):
    """A cycle of actions cannot happen: rule 1 rewrites a lead's e-mail to another lead's, and
    rule 2 (same e-mail → collect) would collect it, but each submission is matched once."""
    use_rules(
        tenant_a,
        {"name": "手机号更新", "conditions": ["mobile"], "action": "update_and_reown", "compare_with": "both"},
        {"name": "邮箱归集", "conditions": ["email"], "action": "collect"},
    )
    x = lead_make(tenant_a, email="x@kehu.cn", owner_id=rep.user_id)
    y = lead_make(tenant_a, email="y@kehu.cn", owner_id=other_rep.user_id)
    outcome = submit(tenant_a, mobile=x.mobile, email="y@kehu.cn")
    assert outcome.outcome == "updated" and outcome.lead is not None and outcome.lead.id == x.id
    assert reload(tenant_a, x).email == "y@kehu.cn"
    with tenant_scope(tenant_a.tenant.id):
        assert Lead.objects.count() == 2
        assert [s.lead_id for s in LeadSubmission.objects.all()] == [x.id]  # one submission, one rule
        assert Lead.objects.get(id=y.id).updated_at == y.updated_at


# --- companies: the seed's examples, aliases -------------------------------------------------------


@pytest.mark.parametrize("written", ["北京纷扬", "纷扬科技", "北京纷扬科技有限公司", "紛揚科技（北京）有限公司"])
def test_the_seeds_company_examples_are_one_company(tenant_a, written):
    first = lead_make(tenant_a, name="王伟", company="北京纷扬科技有限公司")
    outcome = submit(tenant_a, name="王伟", company=written, mobile=next_mobile())
    assert outcome.lead is not None and outcome.lead.duplicate_of_id == first.id


def test_beijing_fenyang_is_not_beijing_fenxiang(tenant_a):
    lead_make(tenant_a, name="王伟", company="北京纷扬")
    outcome = submit(tenant_a, name="王伟", company="北京纷享", mobile=next_mobile())
    assert outcome.lead is not None and outcome.lead.duplicate_of_id is None


def test_a_product_alias_matches_its_company_both_ways(tenant_a):
    with tenant_scope(tenant_a.tenant.id):
        company_alias_create(tenant=tenant_a.tenant, alias="纷享销客", company="北京纷扬科技有限公司")
    first = lead_make(tenant_a, name="王伟", company="北京纷扬科技有限公司")
    by_alias = submit(tenant_a, name="王伟", company="纷享销客", mobile=next_mobile())
    assert by_alias.lead is not None and by_alias.lead.duplicate_of_id == first.id
    # a lead typed with the product name first is found from the company's name as well
    typed_as_product = lead_make(tenant_a, name="李娜", company="纷享销客")
    by_name = submit(tenant_a, name="李娜", company="纷扬科技", mobile=next_mobile())
    assert by_name.lead is not None and by_name.lead.duplicate_of_id == typed_as_product.id


def test_an_alias_added_later_applies_at_once(tenant_a):
    lead_make(tenant_a, name="王伟", company="北京纷扬科技有限公司")
    assert submit(tenant_a, name="王伟", company="纷享销客", mobile=next_mobile()).rule == ""
    with tenant_scope(tenant_a.tenant.id):
        company_alias_create(tenant=tenant_a.tenant, alias="纷享销客", company="北京纷扬科技有限公司")
    assert submit(tenant_a, name="王伟", company="纷享销客", mobile=next_mobile()).rule != ""


def test_a_batch_meets_its_own_earlier_leads_under_every_rule(tenant_a):
    use_rules(tenant_a, {"name": "公司", "conditions": ["company"], "action": "tag"},
              {"name": "微信", "conditions": ["wechat"], "action": "collect"})
    with tenant_scope(tenant_a.tenant.id):
        outcomes = lead_intake_many(tenant=tenant_a.tenant, channel="bulk", payloads=[
            {"name": "王伟", "company": "北京纷扬科技有限公司", "mobile": next_mobile()},
            {"name": "李娜", "company": "纷扬科技", "mobile": next_mobile()},
            {"name": "赵敏", "wechat": "wx_zhaomin"},
            {"name": "赵敏", "wechat": "wx_zhaomin"},
        ])
    assert [o.outcome for o in outcomes] == ["created", "created", "created", "merged"]
    assert outcomes[1].lead is not None and outcomes[0].lead is not None
    assert outcomes[1].lead.duplicate_of_id == outcomes[0].lead.id
    assert outcomes[3].lead is not None and outcomes[2].lead is not None and outcomes[3].lead.id == outcomes[2].lead.id
