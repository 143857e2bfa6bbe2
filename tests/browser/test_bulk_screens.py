"""The lead list with rows ticked and the bulk bar, the confirm step inline, and a masked lead
page, in both languages on a phone (390 px) and a desktop (1440 px). Screenshots under
test-artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assignment.pool_services import pool_create_full
from leadcrm.tenancy.models import Role
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import membership_create, tenant_create, user_get_or_create
from leads.models import Lead
from tests.browser.conftest import log_in
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ADMIN_EMAIL = "chen.jing@yunfan.example"
MANAGER_EMAIL = "zhou.qiang@yunfan.example"
SIZES = {"1440": {"width": 1440, "height": 900}, "390": {"width": 390, "height": 844}}


def _workspace() -> list[int]:
    created = tenant_create(slug="yunfan", name="云帆网络科技", admin_email=ADMIN_EMAIL, admin_password=PASSWORD)
    reps = []
    for email, name, role in (("wang.fang@yunfan.example", "王芳", Role.REP), ("li.lei@yunfan.example", "李雷", Role.REP),
                              (MANAGER_EMAIL, "周强", Role.MANAGER)):
        user = user_get_or_create(email=email, password=PASSWORD, name=name)
        membership_create(tenant=created.tenant, user=user, role=role, display_name=name)
        reps.append(user.id)
    with tenant_scope(created.tenant.id):
        pool = pool_create_full(tenant=created.tenant, data={
            "name": "华南公海", "kind": "public", "position": 0, "members": reps[:2], "mask_contacts": True,
        })
        rows = [("赵敏", "", reps[0]), ("钱坤", "广州云启科技", reps[0]), ("孙丽", "佛山美的供应链管理有限公司", None),
                ("李娜", "", reps[1]), ("周杰", "深圳市恒达精密制造有限公司", None)]
        leads = Lead.objects.bulk_create([
            Lead(tenant=created.tenant, pool=pool, name=name, company=company, owner_id=owner,
                 mobile=f"+8613912{i:06d}", email=f"client{i}@example.cn", wechat=f"wx_client_{i}", province="广东",
                 city="深圳", source="官网", grade="A", tier="hot", is_mature=True, score_total=80 - i,
                 scored_at="2025-03-01T08:00:00Z")
            for i, (name, company, owner) in enumerate(rows)
        ])
    return [lead.id for lead in leads]


@pytest.fixture
def contexts(browser: Any) -> Iterator[dict[tuple[str, str], Any]]:
    made = {
        (language, size): browser.new_context(locale="zh-CN" if language == "zh" else "en-US", viewport=viewport)
        for language in ("zh", "en") for size, viewport in SIZES.items()
    }
    yield made
    for context in made.values():
        context.close()


def _fits(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


def test_bulk_bar_with_rows_ticked_the_confirm_step_and_a_masked_lead_page(
    live_server: Any, contexts: dict[tuple[str, str], Any], screenshot_dir: Path
) -> None:
    leads = _workspace()
    base = f"{live_server.url}/yunfan"
    for (language, size), context in contexts.items():
        suffix = f"{language}-{size}"
        page = context.new_page()
        page.set_default_timeout(10_000)
        log_in(page, live_server.url, ADMIN_EMAIL, PASSWORD, lands_on=f"{base}/leads")
        page.check(f"input[data-bulk-row][value='{leads[0]}']")
        page.check(f"input[data-bulk-row][value='{leads[1]}']")
        page.select_option("#bulk-form select[name=action]", "return")
        assert page.is_visible("#bulk-form input[name=reason]") and not page.is_visible("#bulk-form select[name=owner]")
        page.fill("#bulk-form input[name=reason]", "客户要求暂缓")
        assert page.inner_text("[data-bulk-count]").strip() in {"已选 2 条", "2 selected"}
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(screenshot_dir / f"bulk-list-selected-{suffix}.png"), full_page=True)
        assert _fits(page), f"list {suffix} is wider than the screen"
        page.click("#bulk-form button[type=submit]")
        page.wait_for_selector("#bulk-panel .bulk-confirm")
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(screenshot_dir / f"bulk-confirm-{suffix}.png"), full_page=True)
        assert _fits(page), f"confirm {suffix} is wider than the screen"
        page.close()
        context.clear_cookies()

        page = context.new_page()
        log_in(page, live_server.url, MANAGER_EMAIL, PASSWORD, lands_on=f"{base}/leads")
        page.goto(f"{base}/leads/{leads[0]}")
        assert "139****0000" in page.inner_text("main") and "wx_client_0" not in page.content()
        page.screenshot(path=str(screenshot_dir / f"bulk-masked-lead-{suffix}.png"), full_page=True)
        assert _fits(page), f"masked lead page {suffix} is wider than the screen"
        page.close()
        context.clear_cookies()

    # Select all on the page, assign to a rep, and the result in words (as the admin, on a phone).
    page = contexts[("zh", "390")].new_page()
    log_in(page, live_server.url, ADMIN_EMAIL, PASSWORD, lands_on=f"{base}/leads")
    page.check("input[data-bulk-all]")
    assert page.locator("input[data-bulk-row]:checked").count() == len(leads)
    page.select_option("#bulk-form select[name=action]", "assign")
    page.select_option("#bulk-form select[name=owner]", label=page.locator("#bulk-form select[name=owner] option").nth(2).inner_text())
    page.click("#bulk-form button[type=submit]")
    page.wait_for_selector(".flash-list")
    assert "条已完成" in page.inner_text(".flash-list")
    page.screenshot(path=str(screenshot_dir / "bulk-assigned-zh-390.png"), full_page=True)
