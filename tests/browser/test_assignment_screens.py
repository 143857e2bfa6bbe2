"""The pools admin, a pool's rules, the 公海 and the lead page's actions, in both languages on
a phone (390 px) and a desktop (1440 px). Screenshots under test-artifacts/screenshots/; the
assertions cover what would break: a page wider than the screen, the actions panel not
loading, a claim that does not happen."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assignment.pool_services import pool_create_full, rule_create
from leadcrm.tenancy.models import Role
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import membership_create, tenant_create, user_get_or_create
from leads.models import Lead
from tests.browser.conftest import log_in
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ADMIN_EMAIL = "chen.jing@yunfan.example"
SIZES = {"1440": {"width": 1440, "height": 900}, "390": {"width": 390, "height": 844}}


def _workspace() -> tuple[int, list[int]]:
    created = tenant_create(slug="yunfan", name="云帆网络科技", admin_email=ADMIN_EMAIL, admin_password=PASSWORD)
    reps = []
    for email, name in (("wang.fang@yunfan.example", "王芳"), ("li.lei@yunfan.example", "李雷")):
        user = user_get_or_create(email=email, password=PASSWORD, name=name)
        membership_create(tenant=created.tenant, user=user, role=Role.REP, display_name=name)
        reps.append(user.id)
    admin_id = created.owner.user_id
    with tenant_scope(created.tenant.id):
        pool = pool_create_full(tenant=created.tenant, data={
            "name": "华南公海", "kind": "public", "position": 0, "entry_conditions": {"province": ["广东", "广西"]},
            "members": reps + [admin_id], "admins": [admin_id], "daily_claim_cap": 5, "max_held": 30,
            "mask_contacts": True,
        })
        rule_create(tenant=created.tenant, pool=pool, data={
            "name": "A 级热线索", "conditions": {"grade": ["A"], "tier": ["hot"]}, "strategy": "weighted",
            "reps": [{"user": reps[0], "weight": 3}, {"user": reps[1], "weight": 1}], "exclude_previous_owner": True,
        })
        rule_create(tenant=created.tenant, pool=pool, data={"name": "其余线索", "position": 1,
                                                            "reps": [{"user": r, "weight": 1} for r in reps]})
        leads = Lead.objects.bulk_create([
            Lead(tenant=created.tenant, pool=pool, name=name, company=company, mobile=f"+86138{i:08d}",
                 email=f"c{i}@example.cn", province="广东", city="深圳", industry="制造业", source="官网", grade="A",
                 tier="hot", is_mature=True, score_total=80 - i)
            for i, (name, company) in enumerate([("赵敏", "深圳市恒达精密制造有限公司"), ("钱坤", "广州云启科技"),
                                                  ("孙丽", "佛山美的供应链管理有限公司")])
        ])
    return pool.id, [lead.id for lead in leads]


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


def test_pools_rules_public_pool_and_lead_actions(
    live_server: Any, contexts: dict[tuple[str, str], Any], screenshot_dir: Path
) -> None:
    pool_id, leads = _workspace()
    base = f"{live_server.url}/yunfan"
    for (language, size), context in contexts.items():
        page = context.new_page()
        page.set_default_timeout(10_000)
        suffix = f"{language}-{size}"
        log_in(page, live_server.url, ADMIN_EMAIL, PASSWORD, lands_on=f"{base}/leads")
        for name, url in (("pools", "/settings/pools"), ("pool", f"/settings/pools/{pool_id}"),
                          ("rule", f"/settings/pools/{pool_id}/rules/new"), ("public-pool", "/public-pool")):
            page.goto(base + url)
            page.screenshot(path=str(screenshot_dir / f"assignment-{name}-{suffix}.png"), full_page=True)
            assert _fits(page), f"{name} {suffix} is wider than the screen"
        page.goto(f"{base}/leads/{leads[0]}")
        page.wait_for_selector("#lead-actions")
        page.click("#lead-actions summary >> nth=0")
        page.screenshot(path=str(screenshot_dir / f"assignment-lead-actions-{suffix}.png"), full_page=True)
        assert _fits(page), f"lead page {suffix} is wider than the screen"
        page.close()
    # A claim from the 公海 page, as the admin (a member of the pool).
    page = contexts[("zh", "390")].new_page()
    page.goto(f"{base}/public-pool")
    page.click(".pp-claim button >> nth=0")
    page.wait_for_selector(".flash-success")
    assert "已领取线索" in page.inner_text(".flash-list")
