"""Scoring on the screen, in both languages, on a phone (390 px) and a desktop (1440 px): the
lead page's score panel with its group action and score-history chart, the list with the new
filters and "why hot", and the admins' group-action grid with an error. Screenshots under
test-artifacts/screenshots/ for review; the assertions cover what would break: a page wider
than the screen, a chart that is not drawn (or drawn over a CSP violation), the reasons or
the action missing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import CreatedTenant, tenant_create
from leads.intake import lead_intake_many
from leads.models import Lead
from scoring.models import LeadEvent, ScoreChange
from tests.browser.conftest import log_in
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ADMIN_EMAIL = "zhou.min@hangxin.example"
SIZES = {"1440": {"width": 1440, "height": 900}, "390": {"width": 390, "height": 844}}


def _workspace() -> tuple[CreatedTenant, Lead]:
    created = tenant_create(slug="hangxin", name="杭信科技", admin_email=ADMIN_EMAIL, admin_password=PASSWORD)
    now = timezone.now()
    with tenant_scope(created.tenant.id):
        tenant = created.tenant
        outcomes = lead_intake_many(tenant=tenant, channel="api", payloads=[
            {"name": "刘建国", "company": "杭州云栖数据有限公司", "title": "CEO", "mobile": "13857160012", "source": "官网"},
            {"name": "孙丽", "company": "宁波港联物流", "title": "采购总监", "mobile": "13957410023", "source": "展会"},
            {"name": "赵磊", "company": "温州瓯江电气", "title": "工程师", "mobile": "13767780034", "source": "百度推广"},
            {"name": "钱小雨", "company": "", "title": "学生", "mobile": "13656570045", "source": "抖音"},
        ])
        hot, warm, cold, _student = [outcome.lead for outcome in outcomes if outcome.lead]
        Lead.objects.filter(id=hot.id).update(
            score_total=Decimal(86), score_dynamic=Decimal(76), grade="B", level=1, tier="hot", is_mature=True,
        )
        Lead.objects.filter(id=warm.id).update(
            score_total=Decimal(58), score_dynamic=Decimal(48), grade="B", level=2, tier="warm", is_mature=True,
        )
        Lead.objects.filter(id=cold.id).update(scored_at=None, score_version=None)  # not scored yet
        events = [
            (hot, "demo_request", 3), (hot, "demo_request", 3.1), (hot, "pricing_page_view", 0.2),
            (hot, "whitepaper_download", 9), (warm, "webinar_attend", 6),
        ]
        LeadEvent.objects.bulk_create(
            LeadEvent(
                tenant=tenant, lead=lead, event_id=f"ev-{index}", type=kind, occurred_at=now - timedelta(days=days),
                ref_kind="id", ref_value=str(lead.id),
            )
            for index, (lead, kind, days) in enumerate(events)
        )
        history = [(14, None, 10, "intake", "cold"), (9, 10, 30, "event", "cold"), (6, 30, 52, "event", "warm"),
                   (3, 52, 88, "event", "hot"), (1, 88, 84, "decay", "hot"), (0.2, 84, 86, "event", "hot")]
        ScoreChange.objects.bulk_create(
            ScoreChange(
                tenant=tenant, lead=hot, at=now - timedelta(days=days), reason=reason, version=1,
                previous_total=None if before is None else Decimal(before), total=Decimal(total), static=Decimal(10),
                dynamic=Decimal(total - 10), grade="B", level=1, tier=tier, mature=total >= 50,
            )
            for days, before, total, reason, tier in history
        )
    return created, hot


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


def test_score_panel_chart_list_filters_and_group_grid(
    live_server: Any, contexts: dict[tuple[str, str], Any], screenshot_dir: Path
) -> None:
    _created, hot = _workspace()
    for (language, size), context in contexts.items():
        page = context.new_page()
        page.set_default_timeout(10_000)
        violations: list[str] = []

        def note_violation(message: Any, violations: list[str] = violations) -> None:
            if "Content Security Policy" in message.text:
                violations.append(message.text)

        page.on("console", note_violation)
        suffix = f"{language}-{size}"
        log_in(page, live_server.url, ADMIN_EMAIL, PASSWORD, lands_on=f"{live_server.url}/hangxin/leads")

        # the list: why hot beside the tier badge, the unscored lead as such, the group picker
        page.goto(f"{live_server.url}/hangxin/leads?ordering=-score")
        reasons = page.locator(".why-hot").first.inner_text()
        assert ("申请演示 ×2 · 3 天前" in reasons) if language == "zh" else ("Demo request ×2 · 3 days ago" in reasons)
        names = page.locator(".lead-name").all_inner_texts()
        assert names[0] == "刘建国" and names[-1] == "赵磊"  # hottest first, the unscored lead last
        page.screenshot(path=str(screenshot_dir / f"scoring-list-{suffix}.png"), full_page=True)
        assert _fits_the_screen(page), f"list wider than {size} px"
        if size == "390":  # a lead is a card on a phone: the reasons sit beside the tier badge
            assert page.locator(".why-hot").first.is_visible()
            page.locator(".table-card").screenshot(path=str(screenshot_dir / f"scoring-list-reasons-{suffix}.png"))
            page.locator("label.filters-toggle").click()  # the filters are folded on a phone
        page.locator(".group-picker:not(.columns-picker) summary").click()
        page.locator(".group-cell", has_text="B1").click()  # htmx swaps the table
        expect(page.locator(".lead-table tbody tr")).to_have_count(1)  # (wait_for_function would eval: CSP)
        expect(page.locator(".group-picker:not(.columns-picker) .group-picker-value")).to_have_text("B1")
        page.screenshot(path=str(screenshot_dir / f"scoring-list-group-{suffix}.png"))
        assert page.locator(".lead-name").all_inner_texts() == ["刘建国"]

        # the lead page: the action of its group and the drawn chart
        page.goto(f"{live_server.url}/hangxin/leads/{hot.id}")
        page.locator(".group-action").wait_for()
        page.locator(".score-chart[data-drawn='1'] canvas").wait_for()  # score_chart.js drew it
        action = page.locator(".group-action-text").inner_text()
        assert ("立即电话联系" in action) if language == "zh" else ("Call at once" in action)
        page.locator(".score-card").scroll_into_view_if_needed()
        page.screenshot(path=str(screenshot_dir / f"scoring-lead-{suffix}.png"), full_page=True)
        page.locator(".score-card").screenshot(path=str(screenshot_dir / f"scoring-panel-{suffix}.png"))
        assert _fits_the_screen(page), f"lead page wider than {size} px"

        # the admins' grid, and a cell emptied: its message inside the cell
        page.goto(f"{live_server.url}/hangxin/settings/group-actions")
        assert page.locator(".action-cell").count() == 12
        page.screenshot(path=str(screenshot_dir / f"scoring-group-actions-{suffix}.png"), full_page=True)
        assert _fits_the_screen(page), f"grid wider than {size} px"
        page.fill("textarea[name=C3_text]", "")
        page.click("button[type=submit].btn-primary")
        error = page.locator(".action-cell.has-error .field-error")
        error.wait_for()
        error.scroll_into_view_if_needed()
        page.screenshot(path=str(screenshot_dir / f"scoring-group-actions-error-{suffix}.png"))
        assert "C3" in error.inner_text()
        assert violations == []
        page.close()
