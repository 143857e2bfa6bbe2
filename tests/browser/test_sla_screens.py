"""Follow-ups and SLA on the screen, in both languages, on a desktop (1440 px) and a phone
(390 px): the lead page with the follow-up form opened inline and the timeline (follow-ups, a
violation, owner and score changes), the SLA policies page with an error beside its field, and
the follow-up statistics. Screenshots under test-artifacts/screenshots/ for review; the
assertions cover what a person would notice: a page wider than the screen, the form not
opening, a raw code instead of words, an error away from its field."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from assignment.followups import follow_up_create
from assignment.sla import deadlines_start
from assignment.sweep import sla_sweep
from leadcrm.tenancy.models import Membership, Role
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import CreatedTenant, tenant_create
from leads.models import Lead, OwnerChangeReason
from leads.services import OwnerChange, StatusChange, lead_owner_change_many, lead_status_change_many
from scoring.models import ScoreChange
from tests.assignment.sla_helpers import assigned_lead, hours_ago, policy_make, rep_make
from tests.browser.conftest import log_in
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ADMIN_EMAIL = "chen.jing@minghui.example"
SIZES = {"1440": {"width": 1440, "height": 900}, "390": {"width": 390, "height": 844}}


def _workspace() -> tuple[CreatedTenant, Lead]:
    """A team with a 2-hour policy: one lead missed its deadline (violation, recycled) and was
    given out again; others were followed up, on time and late."""
    created = tenant_create(slug="minghui", name="明辉软件", admin_email=ADMIN_EMAIL, admin_password=PASSWORD)
    wang = rep_make(created, "wang.fang@minghui.example")
    li = rep_make(created, "li.qiang@minghui.example", team="华东")
    zhao = rep_make(created, "zhao.min@minghui.example", team="华东", role=Role.MANAGER)
    policy_make(created, name="新线索 2 小时内首次跟进", warn_before={"value": 30, "unit": "minutes"})
    missed = assigned_lead(created, wang.id, at=hours_ago(5), name="周海涛", company="苏州恒顺精密机械有限公司",
                           title="采购经理")
    sla_sweep(tenant=created.tenant)  # the violation, the recycle
    now = timezone.now()
    with tenant_scope(created.tenant.id):
        tenant = created.tenant
        lead_status_change_many(tenant=tenant, changes=[StatusChange(lead_id=missed.id, status="pending")])
        lead_owner_change_many(tenant=tenant, reason=OwnerChangeReason.MANUAL,
                               changes=[OwnerChange(lead_id=missed.id, owner_id=li.id, at=hours_ago(1))])
        deadlines_start(tenant=tenant, lead_ids=[missed.id], at=hours_ago(1))
        lead = Lead.objects.get(id=missed.id)
        follow_up_create(tenant=tenant, lead_id=lead.id, by_id=li.id, kind="call",
                         content="电话沟通，客户在比较三家供应商，关心交期和售后响应。", outcome="有意向，约了下周演示",
                         next_at=now + timedelta(days=3))
        for n, (company, owner, hours) in enumerate([("无锡启明电子", wang, 1.5), ("常州华瑞新材料", li, 4),
                                                     ("南通海辰物流", wang, 0.5)]):
            other = assigned_lead(created, owner.id, at=hours_ago(hours + 1), name=f"客户{n}", company=company)
            follow_up_create(tenant=tenant, lead_id=other.id, by_id=owner.id, kind="wechat", content="发了产品资料")
        history = [(48, None, 20, "intake", "cold"), (26, 20, 45, "event", "cold"), (3, 45, 62, "event", "warm")]
        ScoreChange.objects.bulk_create(
            ScoreChange(
                tenant=tenant, lead=lead, at=now - timedelta(hours=hours), reason=reason, version=1,
                previous_total=None if before is None else Decimal(before), total=Decimal(total), static=Decimal(20),
                dynamic=Decimal(total - 20), grade="B", level=2, tier=tier, mature=total >= 50,
            )
            for hours, before, total, reason, tier in history
        )
        Lead.objects.filter(id=lead.id).update(score_total=Decimal(62), grade="B", level=2, tier="warm", is_mature=True)
        # The leads came in before they were given out (the helpers create them now).
        Lead.objects.update(created_at=now - timedelta(days=2))
        for user, name in ((wang, "王芳"), (li, "李强"), (zhao, "赵敏")):
            Membership.objects.filter(user_id=user.id).update(display_name=name)
    return created, lead


@pytest.fixture
def contexts(browser: Any) -> Iterator[dict[tuple[str, str], Any]]:
    made = {
        (language, size): browser.new_context(locale="zh-CN" if language == "zh" else "en-US", viewport=viewport)
        for language in ("zh", "en")
        for size, viewport in SIZES.items()
    }
    yield made
    for context in made.values():
        context.close()


def _fits_the_screen(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


def test_follow_up_form_timeline_policies_and_statistics(
    live_server: Any, contexts: dict[tuple[str, str], Any], screenshot_dir: Path
) -> None:
    _created, lead = _workspace()
    for (language, size), context in contexts.items():
        page = context.new_page()
        page.set_default_timeout(10_000)
        suffix = f"{language}-{size}"
        zh = language == "zh"
        log_in(page, live_server.url, ADMIN_EMAIL, PASSWORD, lands_on=f"{live_server.url}/minghui/leads")

        # the lead page: the follow-up form opens in place, the timeline tells what happened
        page.goto(f"{live_server.url}/minghui/leads/{lead.id}")
        page.locator("#follow-up a.btn-primary").click()
        page.locator("#follow-up-slot form.follow-up-form").wait_for()
        timeline = page.locator(".timeline").inner_text()
        for words in (["李强 电话跟进", "王芳 超过跟进时限未跟进", "超时未跟进，回收到线索池", "记录了跟进",
                       "有意向，约了下周演示"] if zh else
                      ["李强 followed up (Phone)", "王芳 missed the follow-up deadline",
                       "Not followed up in time", "约了下周演示"]):
            assert words in timeline, (words, suffix)
        lines = {line.strip() for line in timeline.splitlines()}
        assert not lines & {"recycle", "sla", "idle", "follow_up", "manual", "assignment_rule", "None"}, suffix
        page.screenshot(path=str(screenshot_dir / f"sla-lead-{suffix}.png"), full_page=True)
        page.locator("#follow-up").screenshot(path=str(screenshot_dir / f"sla-follow-up-form-{suffix}.png"))
        assert _fits_the_screen(page), f"lead page wider than {size} px"

        # the policies page: a policy without a time limit is refused beside that field
        page.goto(f"{live_server.url}/minghui/settings/sla")
        policy = page.locator(".policy-item").first.inner_text()
        assert ("2 小时内跟进" in policy) if zh else ("2 hours" in policy and "All pools" in policy), policy
        page.fill("form.sla-form input[name=name]", "大客户 1 个工作日")
        page.fill("form.sla-form input[name=within_value]", "")
        page.locator("form.sla-form button[type=submit].btn-primary").click()
        error = page.locator("form.sla-form .field:has(input[name=within_value]) .field-error")
        error.wait_for()  # beside the empty field, and the only one
        assert page.locator("form.sla-form .field-error").count() == 1
        assert error.inner_text() == ("该字段是必填项。" if zh else "This field is required.")
        assert page.locator("form.sla-form input[name=name]").input_value() == "大客户 1 个工作日"  # kept
        page.screenshot(path=str(screenshot_dir / f"sla-policies-error-{suffix}.png"), full_page=True)
        assert _fits_the_screen(page), f"policies page wider than {size} px"

        # the statistics: per rep and per lead
        page.goto(f"{live_server.url}/minghui/follow-up-stats")
        stats = page.locator("main").inner_text()
        assert "李强" in stats and "王芳" in stats and "苏州恒顺精密机械" not in stats, suffix  # names, not companies
        assert page.locator(".stats-table").count() == 2
        headings = page.locator(".settings-card .card-title").all_inner_texts()
        assert [h.split()[0] for h in headings] == (["按销售", "按线索"] if zh else ["By", "By"]), headings
        if size == "390":  # folded behind one button, as on the lead list
            assert not page.locator("select[name=team]").is_visible()
            page.locator("label.filters-toggle").click()
        assert page.locator("select[name=team]").is_visible()
        page.screenshot(path=str(screenshot_dir / f"sla-stats-{suffix}.png"), full_page=True)
        assert _fits_the_screen(page), f"statistics page wider than {size} px"
        page.close()
