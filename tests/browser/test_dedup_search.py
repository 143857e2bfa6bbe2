"""A rep checks for duplicates in a real browser: finds another rep's lead by a short company
name, sees it masked with its owner, and asks for it; at 1440 and 390 px, in Chinese and
English, with screenshots for review under test-artifacts/screenshots/."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from django.core import mail

from leadcrm.tenancy.models import AuditLog
from leadcrm.tenancy.scoping import tenant_scope
from leads.models import TRANSFER_REQUEST_ACTION
from tests.browser.conftest import log_in
from tests.browser.demo_data import STAFF_PASSWORD, demo_lead_book, staff_email
from tests.conftest import make_tenant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _wait_for_swap(page: Any, action: Any, *, method: str = "GET") -> None:
    """Run `action` and return once htmx has swapped in and settled what it fetched."""
    page.evaluate(
        "window.__settled = false;"
        "document.body.addEventListener('htmx:afterSettle', () => { window.__settled = true; }, {once: true});"
    )
    with page.expect_response(lambda r: r.request.method == method and r.request.headers.get("hx-request") == "true"):
        action()
    deadline = time.monotonic() + 10
    while not page.evaluate("window.__settled"):  # polled: the page's CSP forbids eval'd predicates
        assert time.monotonic() < deadline, "htmx did not settle within 10 s"
        page.wait_for_timeout(20)
    page.wait_for_load_state("networkidle")


def _no_sideways_scrolling(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_a_rep_finds_another_reps_lead_and_asks_for_it_in_both_languages_and_widths(
    live_server: Any, page: Any, screenshot_dir: Path
) -> None:
    created = make_tenant("yunfan")
    book = demo_lead_book(created)
    showcase = book["showcase"]
    assert showcase.name == "林晓峰"

    log_in(page, live_server.url, staff_email(created, "rep2"), STAFF_PASSWORD, lands_on=re.compile(r".*/yunfan/leads$"))
    page.click(".sidenav a[href='/yunfan/dedup-search']")
    page.wait_for_url(f"{live_server.url}/yunfan/dedup-search")
    assert page.locator("h1").inner_text() == "查重"
    page.screenshot(path=str(screenshot_dir / "dedup-search-empty-zh.png"), full_page=True)

    # a wrong mobile: the message is next to the field
    page.fill("input[name=mobile]", "12345")
    _wait_for_swap(page, lambda: page.click("#dedup-form button[type=submit]"))
    assert "这不是有效的手机号" in page.locator("label.dd-field.has-error").inner_text()
    page.fill("input[name=mobile]", "")

    # a short company name finds the showcase lead, masked, with its owner
    page.fill("input[name=company]", "北京纷扬")
    _wait_for_swap(page, lambda: page.click("#dedup-form button[type=submit]"))
    assert "company=" in page.url
    item = page.locator(f"#dedup-lead-{showcase.id}")
    assert "is-masked" in (item.get_attribute("class") or "")
    text = item.inner_text()
    assert "林晓峰" in text and "张伟" in text and "联系方式已隐藏" in text and "****" in text
    assert showcase.mobile[3:] not in page.content()
    assert item.locator("a.lead-name").count() == 0
    page.screenshot(path=str(screenshot_dir / "dedup-search-results-zh.png"), full_page=True)

    # ask for it, with a message
    item.locator("details.dd-ask summary").click()
    item.locator("textarea[name=message]").fill("客户今天主动打电话给我，想尽快看演示。")
    page.screenshot(path=str(screenshot_dir / "dedup-search-ask-zh.png"))
    _wait_for_swap(page, lambda: item.locator("form.dd-ask-panel button[type=submit]").click(), method="POST")
    assert "已发送请求" in page.locator("#dedup-search .flash-success").inner_text()
    assert "已请求" in page.locator(f"#dedup-lead-{showcase.id} .dd-asked").inner_text()
    assert page.url.endswith("/yunfan/dedup-search?company=%E5%8C%97%E4%BA%AC%E7%BA%B7%E6%89%AC")
    page.screenshot(path=str(screenshot_dir / "dedup-search-asked-zh.png"), full_page=True)
    with tenant_scope(created.tenant.id):
        assert AuditLog.objects.filter(action=TRANSFER_REQUEST_ACTION, object_id=str(showcase.id)).count() == 1
    assert [email.to for email in mail.outbox] == [[staff_email(created, "rep1")]]

    # a phone
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    _no_sideways_scrolling(page)
    page.screenshot(path=str(screenshot_dir / "dedup-search-390-zh.png"), full_page=True)
    other = page.locator(".dd-item.is-masked:has(details.dd-ask)").first
    if other.count():
        other.locator("details.dd-ask summary").click()
        _no_sideways_scrolling(page)
        page.screenshot(path=str(screenshot_dir / "dedup-search-ask-390-zh.png"))

    # English
    page.click(".topbar .lang-switch button[value=en]")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == "Duplicate check"
    assert "Contacts hidden" in page.locator(f"#dedup-lead-{showcase.id}").inner_text()
    _no_sideways_scrolling(page)
    page.screenshot(path=str(screenshot_dir / "dedup-search-390-en.png"), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.fill("input[name=name]", "林晓峰")
    _wait_for_swap(page, lambda: page.click("#dedup-form button[type=submit]"))
    assert "Same company (fuzzy) and contact" in page.locator(f"#dedup-lead-{showcase.id}").inner_text()
    page.screenshot(path=str(screenshot_dir / "dedup-search-results-en.png"), full_page=True)
    assert page.csp_violations == []


def test_an_admin_sees_the_same_leads_in_full_and_opens_one(live_server: Any, page: Any, screenshot_dir: Path) -> None:
    created = make_tenant("yunfan")
    showcase = demo_lead_book(created, count=16)["showcase"]
    log_in(page, live_server.url, created.owner.user.email, "Correct-Horse-9", lands_on=re.compile(r".*/yunfan/leads$"))
    page.goto(f"{live_server.url}/yunfan/dedup-search?company=纷扬科技")
    item = page.locator(f"#dedup-lead-{showcase.id}")
    assert "is-masked" not in (item.get_attribute("class") or "")
    assert page.locator("details.dd-ask").count() == 0
    page.screenshot(path=str(screenshot_dir / "dedup-search-admin-zh.png"), full_page=True)
    item.locator("a.lead-name").click()
    page.wait_for_url(f"{live_server.url}/yunfan/leads/{showcase.id}")
    assert "林晓峰" in page.locator("h1").inner_text()
    assert page.csp_violations == []
