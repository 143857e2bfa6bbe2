"""The 评分规则 / Scoring rules admin pages in a real browser: the versions, the draft editor and
the preview, in Chinese and English at 1440 and 390 px (screenshots for review), nothing wider
than the screen."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import CreatedTenant, tenant_create
from scoring.models import AttributeRule
from scoring.rule_sets import attribute_rule_save, rule_set_draft_get_or_create
from tests.conftest import PASSWORD
from tests.factories import lead_make

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"1440": {"width": 1440, "height": 900}, "390": {"width": 390, "height": 844}}
ADMIN_EMAIL = "owner@yunfan.example"


@pytest.fixture
def book() -> tuple[CreatedTenant, int]:
    created = tenant_create(slug="yunfan", name="云帆网络科技", admin_email=ADMIN_EMAIL, admin_password=PASSWORD)
    for industry, title in (("制造业", "采购总监"), ("教育", "老师"), ("金融", "CEO")):
        lead_make(created, industry=industry, title=title, company="纷扬科技")
    with tenant_scope(created.tenant.id):
        draft = rule_set_draft_get_or_create(tenant=created.tenant)
        attribute_rule_save(rule_set=draft, rule_id=None, data={
            "label": "目标行业", "dimension": "company", "field": "industry", "operator": "in", "value": "制造业, 金融",
            "points": "40"})
    return created, draft.id


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


def test_the_scoring_pages_fit_every_screen(live_server: Any, contexts: Any, book: Any, screenshot_dir: Path) -> None:
    created, draft_id = book
    with tenant_scope(created.tenant.id):
        rule_id = AttributeRule.objects.get(rule_set_id=draft_id, label="目标行业").id
    for (language, size), context in contexts.items():
        page = context.new_page()
        page.goto(f"{live_server.url}/login")
        page.fill("input[name=username]", ADMIN_EMAIL)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit].btn-primary")
        page.wait_for_url(f"{live_server.url}/yunfan/leads")
        for name, path in (("versions", "/yunfan/settings/scoring"), ("draft", f"/yunfan/settings/scoring/{draft_id}"),
                           ("edit-rule", f"/yunfan/settings/scoring/{draft_id}?edit_rule={rule_id}"),
                           ("preview", f"/yunfan/settings/scoring/{draft_id}/preview")):
            response = page.goto(f"{live_server.url}{path}")
            assert response is not None and response.status == 200
            page.screenshot(path=str(screenshot_dir / f"scoring-{name}-{language}-{size}.png"), full_page=True)
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), (name, language, size)
        page.close()
