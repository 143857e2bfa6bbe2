"""A manager filters the lead list, picks columns, saves the list as a view shared with the
team, exports it (CSV and Excel), and a rep of the team opens the view; at 1440 and 390 px, in
Chinese and English, with screenshots for review under test-artifacts/screenshots/."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest

from leadcrm.tenancy.models import Membership
from leadcrm.tenancy.scoping import tenant_scope
from tests.browser.conftest import log_in
from tests.browser.demo_data import STAFF_PASSWORD, demo_lead_book, staff_email
from tests.conftest import make_tenant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _no_sideways_scrolling(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_save_a_view_export_it_and_share_it_with_the_team(live_server: Any, page: Any, screenshot_dir: Path) -> None:
    created = make_tenant("yunfan")
    demo_lead_book(created, count=40)
    manager_email, rep_email = staff_email(created, "manager"), staff_email(created, "rep1")
    with tenant_scope(created.tenant.id):
        Membership.objects.filter(user__email__in=[manager_email, rep_email]).update(team="华东一组")

    log_in(page, live_server.url, manager_email, STAFF_PASSWORD, lands_on=re.compile(r".*/yunfan/leads$"))
    # fewer columns, chosen on the list
    page.goto(f"{live_server.url}/yunfan/leads?ordering=-score&cols=name&cols=status&cols=score&cols=tier&cols=owner")
    assert page.locator("#lead-table thead th").count() == 6  # the check box, the name and four columns
    page.locator("#views-bar summary", has_text="保存为视图").click()
    page.fill(".save-view-form input[name=name]", "本周热线索")
    page.select_option(".save-view-form select[name=shared_with]", "team")
    page.screenshot(path=str(screenshot_dir / "views-save-1440-zh.png"), full_page=True)
    page.click(".save-view-form button[type=submit]")
    page.wait_for_url(re.compile(r".*view=\d+.*"))
    assert "已保存视图「本周热线索」" in page.content()
    assert "本周热线索" in page.locator("#views-bar").inner_text()
    page.screenshot(path=str(screenshot_dir / "views-list-1440-zh.png"), full_page=True)

    # the export carries the list's filters and columns
    with page.expect_download() as download_info:
        page.click("#export-csv")
    body = Path(download_info.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["编号", "姓名", "公司", "职位", "手机", "邮箱", "状态", "评分", "热度", "负责人"]
    assert len(rows) == 41
    with page.expect_download() as download_info:
        page.click("#export-xlsx")
    assert download_info.value.suggested_filename.endswith(".xlsx")

    # the same name again: the message is next to the field
    page.locator("#views-bar summary", has_text="保存为视图").click()
    page.fill(".save-view-form input[name=name]", "本周热线索")
    page.click(".save-view-form button[type=submit]")
    assert "你已有名为「本周热线索」的视图" in page.locator("#save-view-form .field-error").inner_text()
    page.screenshot(path=str(screenshot_dir / "views-manage-error-1440-zh.png"), full_page=True)

    # a phone
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/yunfan/leads/views")
    _no_sideways_scrolling(page)
    page.screenshot(path=str(screenshot_dir / "views-manage-390-zh.png"), full_page=True)
    page.locator("a", has_text="打开").first.click()
    page.wait_for_load_state("networkidle")
    _no_sideways_scrolling(page)
    page.screenshot(path=str(screenshot_dir / "views-list-390-zh.png"))
    page.locator("#views-bar summary").first.click()
    page.screenshot(path=str(screenshot_dir / "views-menu-390-zh.png"))
    page.locator("#views-bar summary").first.click()  # closed again
    page.click(".filters-toggle")
    page.click(".columns-picker summary")
    page.locator(".columns-picker").scroll_into_view_if_needed()
    _no_sideways_scrolling(page)
    page.screenshot(path=str(screenshot_dir / "views-columns-390-zh.png"))
    assert page.csp_violations == []

    # a rep of the team opens the shared view, in English, and sees only their own leads
    page.context.clear_cookies()
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, live_server.url, rep_email, STAFF_PASSWORD, lands_on=re.compile(r".*/yunfan/leads$"))
    page.click(".topbar .lang-switch button[value=en]")
    page.wait_for_load_state("networkidle")
    page.goto(f"{live_server.url}/yunfan/leads/views")
    assert "本周热线索" in page.content() and "Shared with me" in page.content()
    page.screenshot(path=str(screenshot_dir / "views-manage-1440-en.png"), full_page=True)
    page.locator("a", has_text="Open").first.click()
    page.wait_for_load_state("networkidle")
    assert "Export CSV" in page.locator("#views-bar").inner_text()
    page.screenshot(path=str(screenshot_dir / "views-list-1440-en.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    _no_sideways_scrolling(page)
    page.screenshot(path=str(screenshot_dir / "views-list-390-en.png"))
    assert page.csp_violations == []
