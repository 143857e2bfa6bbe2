"""The 清洗规则 / Cleansing admin pages in a real browser: an admin adds, searches, imports and
deletes blacklist entries through htmx, with the error next to the field; the tabs in Chinese
and English at 1440 and 390 px, with screenshots under test-artifacts/screenshots/ for review."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from leadcrm.tenancy.models import Role
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import CreatedTenant, membership_create, tenant_create, user_get_or_create
from leads.cleansing import clear_matcher_caches
from leads.cleansing_services import blacklist_import, sensitive_word_import
from tests.browser.conftest import log_in
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"1440": {"width": 1440, "height": 900}, "390": {"width": 390, "height": 844}}
ADMIN_EMAIL = "owner@yunfan.example"

BLACKLIST_FILE = """类型,内容,备注
手机,139 5281 6437
手机,186-0123-4599
座机,010-6234 5578
邮箱,sales@competitor-crm.com
域名,spam-mail.cn
域名,tempmail.org
公司,深圳市某某信息咨询有限公司
公司,北京纷享科技有限公司
关键词,刷单
关键词,竞品调研
"""


def _book() -> CreatedTenant:
    created = tenant_create(slug="yunfan", name="云帆网络科技", admin_email=ADMIN_EMAIL, admin_password=PASSWORD)
    admin = created.owner.user
    admin.first_name = "陈静"
    admin.save(update_fields=["first_name"])
    rep = user_get_or_create(email="wang.fang@yunfan.example", password=PASSWORD, name="王芳")
    membership_create(tenant=created.tenant, user=rep, role=Role.REP, display_name="王芳")
    with tenant_scope(created.tenant.id):
        blacklist_import(tenant=created.tenant, data=BLACKLIST_FILE.encode(), skip_invalid=True, note="2025 年投诉名单", actor=admin)
        sensitive_word_import(
            tenant=created.tenant, data="某某竞品\n赌博,线上博彩平台\n例外,特色情况说明\n".encode(), actor=admin
        )
    clear_matcher_caches()
    return created


@pytest.fixture
def book() -> CreatedTenant:
    return _book()


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


def _log_in(page: Any, base_url: str, email: str = ADMIN_EMAIL) -> None:
    log_in(page, base_url, email, PASSWORD, lands_on=f"{base_url}/yunfan/leads")


def _fits_the_screen(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


def _wait_for_swap(page: Any, action: Any) -> None:
    """Run `action` and return once htmx has swapped and settled what it fetched."""
    page.evaluate(
        "window.__settled = false;"
        "document.body.addEventListener('htmx:afterSettle', () => { window.__settled = true; }, {once: true});"
    )
    action()
    deadline = time.monotonic() + 10
    while not page.evaluate("window.__settled"):  # polled: the page's CSP forbids eval'd predicates
        assert time.monotonic() < deadline, "htmx did not settle within 10 s"
        page.wait_for_timeout(20)
    page.wait_for_load_state("networkidle")


def test_an_admin_works_the_blacklist_with_htmx(live_server: Any, page: Any, book: CreatedTenant, screenshot_dir: Path) -> None:
    _log_in(page, live_server.url)
    page.click("a.nav-item:has-text('清洗规则')")
    page.wait_for_url(f"{live_server.url}/yunfan/settings/cleansing")
    assert page.locator("#blacklist-table tbody tr").count() == 10

    # a bad entry: the message sits under the value field, what was typed stays
    page.select_option("#blacklist-kind", "phone")
    page.fill("#blacklist-value", "张三的电话")
    _wait_for_swap(page, lambda: page.click("#blacklist-add button[type=submit]"))
    error = page.locator("#blacklist-value-error")
    assert "不是电话号码" in error.inner_text()
    assert page.input_value("#blacklist-value") == "张三的电话"
    value_box, error_box = page.locator("#blacklist-value").bounding_box(), error.bounding_box()
    assert 0 <= error_box["y"] - (value_box["y"] + value_box["height"]) < 12  # right below the field
    # caret="initial": hiding the caret leaves style="" on the fields, which htmx would then copy
    # over when it settles the next swap, and the CSP refuses (a screenshot artefact, not the page's)
    page.screenshot(path=str(screenshot_dir / "cleansing-blacklist-error-zh-1440.png"), caret="initial")

    # a good one: the panel comes back with the message and the entry at the top
    page.fill("#blacklist-value", "137 1234 5679")
    _wait_for_swap(page, lambda: page.click("#blacklist-add button[type=submit]"))
    assert "已将“137 1234 5679”加入黑名单" in page.locator(".flash").inner_text()
    assert page.locator("#blacklist-table tbody tr").first.locator(".rule-value").inner_text() == "137 1234 5679"
    assert page.input_value("#blacklist-value") == ""

    # search as you type, then a kind filter: the address bar follows
    _wait_for_swap(page, lambda: page.fill("#blacklist-filters input[name=q]", "纷享"))
    assert page.locator("#blacklist-table tbody tr").count() == 1
    _wait_for_swap(page, lambda: page.fill("#blacklist-filters input[name=q]", ""))
    _wait_for_swap(page, lambda: page.select_option("#blacklist-filters select[name=kind]", "email_domain"))
    assert page.locator("#blacklist-table tbody tr").count() == 2
    assert "kind=email_domain" in page.url

    # delete asks first, then the filtered list comes back
    page.once("dialog", lambda dialog: dialog.accept())
    _wait_for_swap(page, lambda: page.locator("#blacklist-table tbody tr").first.locator("a:has-text('删除')").click())
    assert "已从黑名单删除" in page.locator(".flash").inner_text()
    assert page.locator("#blacklist-table tbody tr").count() == 1
    assert "kind=email_domain" in page.url

    # an import with a bad line is refused, each line reported
    page.set_input_files("#blacklist-import input[type=file]", files=[{
        "name": "名单.csv", "mimeType": "text/csv", "buffer": "手机,13912345670\n手机,12345\n".encode("gbk"),
    }])
    _wait_for_swap(page, lambda: page.click("#blacklist-import button[type=submit]"))
    assert "文件未导入" in page.locator("#import-outcome").inner_text()
    assert page.locator("#import-outcome tbody tr").count() == 1
    page.locator("#import-outcome").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "cleansing-blacklist-import-refused-zh-1440.png"))
    assert page.csp_violations == []


def test_a_rep_is_told_who_may(live_server: Any, page: Any, book: CreatedTenant, screenshot_dir: Path) -> None:
    _log_in(page, live_server.url, "wang.fang@yunfan.example")
    assert page.locator("a.nav-item:has-text('清洗规则')").count() == 0
    page.goto(f"{live_server.url}/yunfan/settings/cleansing")
    assert "只有管理员可以查看和修改清洗规则" in page.locator("h1").inner_text()
    assert "陈静" in page.locator(".empty-page").inner_text()
    page.screenshot(path=str(screenshot_dir / "cleansing-forbidden-zh-1440.png"))


def test_the_tabs_in_both_languages_and_sizes(
    live_server: Any, contexts: dict[tuple[str, str], Any], book: CreatedTenant, screenshot_dir: Path
) -> None:
    for (language, size), context in contexts.items():
        page = context.new_page()
        page.set_default_timeout(10_000)
        suffix = f"{language}-{size}"
        _log_in(page, live_server.url)
        for tab, path in (("blacklist", ""), ("words", "/words"), ("policy", "/policy")):
            page.goto(f"{live_server.url}/yunfan/settings/cleansing{path}")
            page.screenshot(path=str(screenshot_dir / f"cleansing-{tab}-{suffix}.png"), full_page=True)
            assert _fits_the_screen(page), f"{tab} wider than {size} px ({language})"
        page.goto(f"{live_server.url}/yunfan/settings/cleansing")
        delete_link = page.locator("#blacklist-table tbody tr").first.locator("a.btn-danger-ghost")
        page.goto(live_server.url + delete_link.get_attribute("href"))  # where "delete" leads without JavaScript
        assert page.locator(".confirm-card button[type=submit]").count() == 1
        page.screenshot(path=str(screenshot_dir / f"cleansing-delete-confirm-{suffix}.png"))
        assert _fits_the_screen(page)
        page.goto(f"{live_server.url}/yunfan/settings/cleansing/words")
        page.fill("#word-value", "赌")
        page.click("#word-add button[type=submit]")
        page.wait_for_selector("#word-value-error")
        page.locator("#word-add").scroll_into_view_if_needed()
        page.screenshot(path=str(screenshot_dir / f"cleansing-words-error-{suffix}.png"))
        if size == "390":  # the side navigation is hidden: the user menu leads there
            page.goto(f"{live_server.url}/yunfan/leads")
            page.click(".user-menu summary")
            page.click(".menu-panel a.menu-link")
            page.wait_for_url(f"{live_server.url}/yunfan/settings/cleansing")
        page.close()
