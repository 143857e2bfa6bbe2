"""The rep's path through the workbench in a real browser, in Chinese and English, with
screenshots for review under test-artifacts/screenshots/."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import log_in
from tests.browser.demo_data import STAFF_PASSWORD, demo_lead_book, staff_email
from tests.conftest import make_tenant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _wait_for_table_swap(page: Any, action: Any) -> None:
    """Run `action` and return once htmx has swapped in and settled the table it fetched (the
    response arriving is not enough: reading the table then can still see the old one)."""
    page.evaluate(
        "window.__tableSettled = false;"
        "document.body.addEventListener('htmx:afterSettle', () => { window.__tableSettled = true; }, {once: true});"
    )
    with page.expect_response(lambda r: "/leads" in r.url and r.request.headers.get("hx-request") == "true"):
        action()
    deadline = time.monotonic() + 10
    while not page.evaluate("window.__tableSettled"):  # polled: the page's CSP forbids eval'd predicates
        assert time.monotonic() < deadline, "htmx did not settle the table within 10 s"
        page.wait_for_timeout(20)
    page.wait_for_load_state("networkidle")


def test_manager_logs_in_filters_searches_and_opens_a_lead_in_both_languages(
    live_server: Any, page: Any, screenshot_dir: Path
) -> None:
    created = make_tenant("yunfan")
    book = demo_lead_book(created)
    manager_email = staff_email(created, "manager")

    # log in (Chinese)
    page.goto(f"{live_server.url}/login")
    assert page.locator("h1").inner_text() == "登录 LeadCRM"
    page.screenshot(path=str(screenshot_dir / "login-zh.png"))
    page.fill("input[name=username]", manager_email)
    page.fill("input[name=password]", "wrong password")
    page.click("button[type=submit].btn-primary")
    assert "邮箱或密码不正确" in page.locator(".alert-error").inner_text()
    page.screenshot(path=str(screenshot_dir / "login-error-zh.png"))
    page.fill("input[name=username]", manager_email)
    page.fill("input[name=password]", STAFF_PASSWORD)
    page.click("button[type=submit].btn-primary")
    page.wait_for_url(f"{live_server.url}/yunfan/leads")
    assert page.locator("#lead-table tbody tr").count() == 50
    assert page.locator(".pager a[rel=next]").count() == 1
    page.screenshot(path=str(screenshot_dir / "lead-list-zh.png"))

    # filter by status: htmx swaps only the table
    _wait_for_table_swap(page, lambda: page.select_option("select[name=status]", "following"))
    statuses = page.locator("#lead-table tbody .status").all_inner_texts()
    assert statuses and set(statuses) == {"跟进中"}
    assert "status=following" in page.url  # the filter is in the address bar (shareable, back button)
    page.screenshot(path=str(screenshot_dir / "lead-list-filtered-zh.png"))

    # next page and back, by cursor
    _wait_for_table_swap(page, lambda: page.select_option("select[name=status]", ""))
    first_row = page.locator("#lead-table tbody tr").first.inner_text()
    _wait_for_table_swap(page, lambda: page.click(".pager a[rel=next]"))
    assert page.locator("#lead-table tbody tr").count() == book["lead_count"] - 50
    _wait_for_table_swap(page, lambda: page.click(".pager a[rel=prev]"))
    assert page.locator("#lead-table tbody tr").first.inner_text() == first_row

    # search as you type
    _wait_for_table_swap(page, lambda: page.fill("input[name=q]", "纷扬"))
    names = page.locator("#lead-table tbody .lead-sub").all_inner_texts()
    assert names and all("北京纷扬科技有限公司" in name for name in names)

    # open the showcase lead
    page.click(f"a[href='/yunfan/leads/{book['showcase'].id}']")
    page.wait_for_url(f"**/yunfan/leads/{book['showcase'].id}")
    assert "林晓峰" in page.locator("h1").inner_text()
    body = page.locator("main").inner_text()
    # owner, collected re-submission and the history written by the services, in words
    assert "线索评分" in body and "归集的提交" in body and "张伟" in body
    assert "分配给 张伟" in body and "按分配规则分配" in body and "状态变为「跟进中」" in body
    page.screenshot(path=str(screenshot_dir / "lead-detail-zh.png"), full_page=True)

    # switch to English
    page.click(".topbar .lang-switch button[value=en]")
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "en"
    body = page.locator("main").inner_text()
    assert "Lead score" in body and "Following" in body and "Collected submissions" in body
    page.screenshot(path=str(screenshot_dir / "lead-detail-en.png"), full_page=True)
    page.click(".back-link")
    page.wait_for_url(f"{live_server.url}/yunfan/leads")
    assert "Leads" in page.locator("h1").inner_text()
    page.screenshot(path=str(screenshot_dir / "lead-list-en.png"))

    # and back to Chinese
    page.click(".topbar .lang-switch button[value=zh-hans]")
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator("h1").inner_text() == "线索"

    # sign out, sign-in page in English
    page.click(".user-menu summary")
    page.click(".menu-panel button")
    page.wait_for_url(f"{live_server.url}/login")
    page.click(".auth-card .lang-switch button[value=en]")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == "Sign in to LeadCRM"
    page.screenshot(path=str(screenshot_dir / "login-en.png"))

    assert page.csp_violations == []


def test_rep_sees_only_own_leads_in_the_browser(live_server: Any, page: Any, screenshot_dir: Path) -> None:
    created = make_tenant("yunfan")
    demo_lead_book(created, count=16)
    log_in(page, live_server.url, staff_email(created, "rep1"), STAFF_PASSWORD, lands_on=f"{live_server.url}/yunfan/leads")
    rows = page.locator("#lead-table tbody tr")
    assert rows.count() > 0
    assert page.locator("select[name=owner]").count() == 0  # nothing to pick: all are theirs
    page.screenshot(path=str(screenshot_dir / "lead-list-rep-zh.png"))
    page.goto(f"{live_server.url}/other-company/leads")
    assert "找不到这个页面" in page.locator("h1").inner_text()
    assert page.csp_violations == []
