"""The duplicate-rule settings and a lead with duplicates, in both languages, on a phone (390 px)
and a desktop (1440 px). Screenshots under test-artifacts/screenshots/ for review; the
assertions cover what would break: pages wider than the screen, a form error away from its
field, the rule that matched missing from the lead."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from leadcrm.tenancy.models import Role
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import CreatedTenant, membership_create, tenant_create, user_get_or_create
from leads.dedup_services import company_alias_create, dedup_rule_create
from leads.intake import lead_intake_many
from leads.models import Lead
from leads.services import contact_create, customer_create
from tests.browser.conftest import log_in
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ADMIN_EMAIL = "chen.jing@yunfan.example"
SIZES = {"1440": {"width": 1440, "height": 900}, "390": {"width": 390, "height": 844}}


def _workspace() -> tuple[CreatedTenant, Lead]:
    created = tenant_create(slug="yunfan", name="云帆网络科技", admin_email=ADMIN_EMAIL, admin_password=PASSWORD)
    rep = user_get_or_create(email="wang.fang@yunfan.example", password=PASSWORD, name="王芳")
    membership_create(tenant=created.tenant, user=rep, role=Role.REP, display_name="王芳")
    with tenant_scope(created.tenant.id):
        tenant = created.tenant
        dedup_rule_create(tenant=tenant, data={"name": "微信号相同（不限时间）", "conditions": ["wechat"],
                                               "compare_with": "both", "action": "route_to_owner"})
        dedup_rule_create(tenant=tenant, data={"name": "同公司同座机只标记", "conditions": ["company", "phone"],
                                               "window_days": 90, "action": "tag", "is_active": False})
        company_alias_create(tenant=tenant, alias="纷享销客", company="北京纷扬科技有限公司")
        customer = customer_create(tenant=tenant, name="北京纷扬科技有限公司", owner=rep)
        contact_create(tenant=tenant, customer=customer, name="林晓峰", wechat="lin_xiaofeng")
        (source,) = [o.lead for o in lead_intake_many(tenant=tenant, channel="form", payloads=[
            {"name": "王萱强", "company": "天津合汇软件股份有限公司", "mobile": "15241586834", "title": "技术总监", "source": "官网"},
        ]) if o.lead]
        Lead.objects.filter(id=source.id).update(owner_id=rep.id)
        lead_intake_many(tenant=tenant, channel="api", payloads=[
            {"name": "王 萱强", "company": "合汇软件", "mobile": "15186570704", "source": "抖音"},
            {"name": "王萱强先生", "company": "合匯軟件（天津）有限公司", "email": "wxq@hehui-soft.cn", "source": "展会"},
            {"name": "王萱强", "mobile": "152-4158-6834", "source": "百度推广", "notes": "再次下载白皮书"},
            {"name": "林晓峰", "company": "纷享销客", "wechat": "lin_xiaofeng", "source": "公众号"},
        ])
    return created, source


@pytest.fixture
def workspace() -> tuple[CreatedTenant, Lead]:
    return _workspace()


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


def test_dedup_settings_and_a_lead_with_duplicates(
    live_server: Any, contexts: dict[tuple[str, str], Any], workspace: tuple[CreatedTenant, Lead], screenshot_dir: Path
) -> None:
    _created, source = workspace
    for (language, size), context in contexts.items():
        page = context.new_page()
        page.set_default_timeout(10_000)
        suffix = f"{language}-{size}"
        log_in(page, live_server.url, ADMIN_EMAIL, PASSWORD, lands_on=f"{live_server.url}/yunfan/leads")

        page.goto(f"{live_server.url}/yunfan/settings/dedup")
        page.screenshot(path=str(screenshot_dir / f"dedup-rules-{suffix}.png"), full_page=True)
        assert _fits_the_screen(page), f"rules page wider than {size} px"
        assert page.locator(".rule-item").count() == 5

        # a rule without conditions: the message sits in the conditions' box
        page.fill("#add-rule input[name=name]", "空规则")
        page.click("#add-rule button[type=submit]")
        error = page.locator(".rule-form-conditions .field-error")
        error.wait_for()
        error.scroll_into_view_if_needed()
        page.screenshot(path=str(screenshot_dir / f"dedup-rules-error-{suffix}.png"))
        assert _fits_the_screen(page)

        page.goto(f"{live_server.url}/yunfan/settings/company-aliases")
        page.screenshot(path=str(screenshot_dir / f"dedup-aliases-{suffix}.png"), full_page=True)
        assert _fits_the_screen(page), f"aliases page wider than {size} px"

        page.goto(f"{live_server.url}/yunfan/leads/{source.id}")
        page.screenshot(path=str(screenshot_dir / f"dedup-lead-{suffix}.png"), full_page=True)
        assert _fits_the_screen(page), f"lead page wider than {size} px"
        assert page.locator(".dup-list li").count() == 2
        rule_text = page.locator(".dup-list .dup-rule").first.inner_text()
        assert ("公司相同且联系人相同" in rule_text) if language == "zh" else ("Rule:" in rule_text)
        page.close()
