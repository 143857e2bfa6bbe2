"""An admin works the quarantine in a real browser: filters by a reason, restores a submission
and opens the lead it became; at 1440 and 390 px, in Chinese and English, with screenshots
for review under test-artifacts/screenshots/."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from leadcrm.tenancy.scoping import tenant_scope
from leads.models import IntakeRecord, IntakeStatus, Lead
from tests.browser.conftest import log_in
from tests.browser.demo_data import STAFF_PASSWORD, demo_lead_book, staff_email
from tests.conftest import PASSWORD, make_tenant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _wait_for_swap(page: Any, action: Any, *, method: str = "GET") -> None:
    """Run `action` and return once htmx has swapped in and settled what it fetched."""
    page.evaluate(
        "window.__settled = false;"
        "document.body.addEventListener('htmx:afterSettle', () => { window.__settled = true; }, {once: true});"
    )
    with page.expect_response(
        lambda r: "/quarantine" in r.url and r.request.method == method and r.request.headers.get("hx-request") == "true"
    ):
        action()
    deadline = time.monotonic() + 10
    while not page.evaluate("window.__settled"):  # polled: the page's CSP forbids eval'd predicates
        assert time.monotonic() < deadline, "htmx did not settle within 10 s"
        page.wait_for_timeout(20)
    page.wait_for_load_state("networkidle")


def _log_in(page: Any, base_url: str, email: str, password: str) -> None:
    log_in(page, base_url, email, password)


def test_admin_filters_restores_and_opens_the_lead_in_both_languages_and_widths(
    live_server: Any, page: Any, screenshot_dir: Path
) -> None:
    created = make_tenant("yunfan")
    demo_lead_book(created)
    with tenant_scope(created.tenant.id):
        quarantined = IntakeRecord.objects.filter(status=IntakeStatus.QUARANTINED).count()
        sensitive = IntakeRecord.objects.filter(reasons__contains=["sensitive_word"]).count()
        leads_before = Lead.objects.count()
    assert quarantined >= 15 and sensitive >= 3

    _log_in(page, live_server.url, created.owner.user.email, PASSWORD)
    page.click(".sidenav a[href='/yunfan/quarantine']")
    page.wait_for_url(f"{live_server.url}/yunfan/quarantine")
    assert page.locator("h1").inner_text() == "隔离区"
    assert page.locator(".q-item").count() == quarantined
    chip_total = page.locator(".q-chip.is-active .q-chip-count").inner_text()
    assert int(chip_total) == quarantined
    assert page.locator(".q-chip[data-reason=sensitive_word]").count() == 1
    page.screenshot(path=str(screenshot_dir / "quarantine-list-zh.png"), full_page=True)

    # filter by a reason: htmx swaps the results, the address bar keeps the filter
    _wait_for_swap(page, lambda: page.select_option("select[name=reason]", "sensitive_word"))
    assert "reason=sensitive_word" in page.url
    items = page.locator(".q-item")
    assert items.count() == sensitive
    for text in items.locator(".q-reasons").all_inner_texts():
        assert "敏感词" in text
    page.screenshot(path=str(screenshot_dir / "quarantine-filtered-zh.png"), full_page=True)

    # restore the first one: the confirm step names the reason being waived
    first = items.first
    name = first.locator(".lead-name").inner_text().strip()
    first.locator("details.q-confirm summary", has_text="恢复").click()
    panel = first.locator("details.q-confirm[open] .q-confirm-panel")
    assert "敏感词" in panel.inner_text() and panel.locator("input[name=waive][value=sensitive_word]").is_checked()
    page.screenshot(path=str(screenshot_dir / "quarantine-restore-confirm-zh.png"))
    _wait_for_swap(page, lambda: panel.locator("button[type=submit]").click(), method="POST")
    message = page.locator("#quarantine-results .flash-success")
    assert "已恢复" in message.inner_text()
    assert page.locator(".q-item").count() == sensitive - 1
    page.screenshot(path=str(screenshot_dir / "quarantine-restored-zh.png"), full_page=True)

    # … and sees the lead
    message.locator("a").click()
    page.wait_for_url(re.compile(r".*/yunfan/leads/\d+$"))
    assert name in page.locator("h1").inner_text()
    with tenant_scope(created.tenant.id):
        assert IntakeRecord.objects.filter(status=IntakeStatus.RESTORED).count() == 1
        assert Lead.objects.count() in (leads_before, leads_before + 1)  # created, or collected into a known one

    # 390 px wide, Chinese
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/yunfan/quarantine")
    page.screenshot(path=str(screenshot_dir / "quarantine-list-390-zh.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    page.locator(".q-item").first.locator("details.q-confirm summary", has_text="恢复").click()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(screenshot_dir / "quarantine-restore-confirm-390-zh.png"))

    # English, 390 then 1440
    page.click(".topbar .lang-switch button[value=en]")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == "Quarantine"
    body = page.locator("main").inner_text()
    assert "No contact method" in body and "Invalid mobile" in body
    page.screenshot(path=str(screenshot_dir / "quarantine-list-390-en.png"))
    page.set_viewport_size({"width": 1440, "height": 900})
    page.screenshot(path=str(screenshot_dir / "quarantine-list-en.png"), full_page=True)
    page.locator(".q-item").first.locator("a.lead-name").click()
    page.wait_for_url(re.compile(r".*/yunfan/quarantine/\d+(\?.*)?$"))
    assert "Submitted data" in page.locator("main").inner_text()
    page.screenshot(path=str(screenshot_dir / "quarantine-detail-en.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(screenshot_dir / "quarantine-detail-390-en.png"), full_page=True)
    assert page.csp_violations == []


def test_a_manager_sees_masked_contacts_and_a_rep_is_turned_away(live_server: Any, page: Any, screenshot_dir: Path) -> None:
    created = make_tenant("yunfan")
    demo_lead_book(created, count=16)
    _log_in(page, live_server.url, staff_email(created, "manager"), STAFF_PASSWORD)
    page.goto(f"{live_server.url}/yunfan/quarantine")
    assert page.locator(".q-item").count() > 0
    assert page.locator("details.q-confirm").count() == 0
    assert "****" in page.locator(".q-list").inner_text()
    page.screenshot(path=str(screenshot_dir / "quarantine-list-manager-zh.png"), full_page=True)
    page.click(".user-menu summary")
    page.click(".menu-panel button")
    _log_in(page, live_server.url, staff_email(created, "rep1"), STAFF_PASSWORD)
    assert page.locator(".sidenav a[href='/yunfan/quarantine']").count() == 0
    page.goto(f"{live_server.url}/yunfan/quarantine")
    assert "隔离区仅对管理员和销售经理开放" in page.locator("h1").inner_text()
    page.screenshot(path=str(screenshot_dir / "quarantine-rep-403-zh.png"))
    assert page.csp_violations == []
