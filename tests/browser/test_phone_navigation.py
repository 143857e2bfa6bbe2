"""On a phone (390 px) the navigation stays on screen as a row of tabs, and no page is wider
than the screen."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import log_in
from tests.browser.demo_data import demo_lead_book
from tests.conftest import PASSWORD, make_tenant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_an_admin_on_a_phone_reaches_every_page_from_the_navigation(
    live_server: Any, browser: Any, screenshot_dir: Path, language: str
) -> None:
    created = make_tenant("yunfan")
    demo_lead_book(created, count=20)
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN" if language == "zh-hans" else "en-US")
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page = context.new_page()
    log_in(page, live_server.url, created.owner.user.email, PASSWORD)

    links = page.locator(".sidenav a.nav-item")
    assert links.count() >= 2
    for index in range(links.count()):
        box = links.nth(index).bounding_box()
        assert box is not None and box["height"] > 0  # rendered, not hidden
    quarantine = page.locator(".sidenav a[href='/yunfan/quarantine']")
    quarantine.scroll_into_view_if_needed()
    assert quarantine.is_visible()
    page.screenshot(path=str(screenshot_dir / f"phone-nav-leads-{language}.png"))
    quarantine.click()
    page.wait_for_url(f"{live_server.url}/yunfan/quarantine")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(screenshot_dir / f"phone-nav-quarantine-{language}.png"))
    context.close()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_rep_on_a_phone_sees_leads_first_as_cards_with_the_filters_folded(
    live_server: Any, browser: Any, screenshot_dir: Path, language: str
) -> None:
    created = make_tenant("yunfan")
    demo_lead_book(created, count=20)
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN" if language == "zh-hans" else "en-US")
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page = context.new_page()
    log_in(page, live_server.url, created.owner.user.email, PASSWORD)

    assert not page.locator(".filters-grid").is_visible()  # folded: the leads come first
    first = page.locator(".lead-table tbody tr").first
    box = first.bounding_box()
    assert box is not None and box["y"] < 844  # a lead is on the first screen
    assert page.locator(".lead-table thead").bounding_box()["height"] <= 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    for cell in ("td.cell-lead", "td.num", "td.cell-status", "td.cell-tier"):
        assert first.locator(cell).is_visible(), cell  # no column hidden off-screen
    page.screenshot(path=str(screenshot_dir / f"phone-lead-cards-{language}.png"), full_page=True)

    page.click("label.filters-toggle")
    assert page.locator(".filters-grid").is_visible()
    page.select_option("select[name=status]", "pending")
    page.wait_for_url(re.compile(r".*status=pending.*"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(screenshot_dir / f"phone-lead-filters-{language}.png"))
    context.close()
