"""The people pages, the API keys page (with the secret shown once), the routing form, and the
bell with the notifications page, in a real browser in Chinese and English at 1440 and 390 px:
nothing wider than the viewport, the header intact. Screenshots go to
test-artifacts/screenshots/ for review."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from leadcrm.tenancy.models import ApiKey
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import CreatedTenant, api_key_create, tenant_create
from tests.browser.demo_data import demo_lead_book
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"1440": {"width": 1440, "height": 900}, "390": {"width": 390, "height": 844}}
ADMIN_EMAIL = "owner@yunfan.example"


@pytest.fixture
def book() -> dict[str, Any]:
    created = tenant_create(slug="yunfan", name="云帆网络科技", admin_email=ADMIN_EMAIL, admin_password=PASSWORD)
    admin = created.owner.user
    admin.first_name = "陈静"
    admin.save(update_fields=["first_name"])
    data = demo_lead_book(created, count=40)
    api_key_create(tenant=created.tenant, name="官网表单", scopes=["leads:write"], created_by=admin)
    return {"created": created, **data}


@pytest.fixture
def contexts(browser: Any) -> Iterator[dict[tuple[str, str], Any]]:
    made = {
        (language, size): browser.new_context(locale="zh-CN" if language == "zh" else "en-US", viewport=viewport)
        for language in ("zh", "en") for size, viewport in SIZES.items()
    }
    yield made
    for context in made.values():
        context.close()


def _log_in(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("input[name=username]", ADMIN_EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].btn-primary")
    page.wait_for_url(f"{base_url}/yunfan/leads")


def _fits(page: Any) -> None:
    width = page.evaluate("document.documentElement.clientWidth")
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url}: content {scroll}px wide in a {width}px viewport"
    assert page.locator("header.topbar .bell").is_visible()
    box = page.locator("header.topbar").bounding_box()
    assert box is not None and box["width"] <= width


def _shot(page: Any, directory: Path, name: str) -> None:
    page.screenshot(path=str(directory / f"{name}.png"), full_page=True)


def test_people_pages_in_both_languages_and_sizes(live_server, contexts, book, screenshot_dir):
    created: CreatedTenant = book["created"]
    rep = book["reps"][0].user
    base = live_server.url
    for (language, size), context in contexts.items():
        page = context.new_page()
        _log_in(page, base)
        page.goto(f"{base}/yunfan/settings/people")
        assert page.locator(".people-table tbody tr").count() >= 9
        _fits(page)
        _shot(page, screenshot_dir, f"people-list-{language}-{size}")
        page.goto(f"{base}/yunfan/settings/people/{rep.id}")
        assert page.locator(".hours-row").count() >= 7
        _fits(page)
        _shot(page, screenshot_dir, f"people-member-{language}-{size}")
        page.goto(f"{base}/yunfan/settings/people/{rep.id}/remove")
        _fits(page)
        _shot(page, screenshot_dir, f"people-remove-{language}-{size}")
        page.goto(f"{base}/yunfan/notifications")
        assert page.locator(".notification").count() >= 1
        _fits(page)
        _shot(page, screenshot_dir, f"notifications-{language}-{size}")
        page.close()
    assert created.tenant.slug == "yunfan"


def test_routing_form_errors_show_beside_the_day(live_server, page, book, screenshot_dir):
    rep = book["reps"][1].user
    base = live_server.url
    _log_in(page, base)
    page.goto(f"{base}/yunfan/settings/people/{rep.id}")
    row = page.locator(".hours-row").nth(0)
    row.locator("input[type=checkbox]").check()
    row.locator("input[name$='-start']").fill("19:00")
    row.locator("input[name$='-end']").fill("08:00")
    page.click("text=保存接收设置")
    page.wait_for_load_state()
    assert "after the start" in page.locator(".hours-row").nth(0).inner_text()
    _shot(page, screenshot_dir, "people-routing-error-zh-1440")


def test_api_key_secret_shown_once_in_both_languages_and_sizes(live_server, contexts, book, screenshot_dir):
    created: CreatedTenant = book["created"]
    base = live_server.url
    for (language, size), context in contexts.items():
        page = context.new_page()
        _log_in(page, base)
        page.goto(f"{base}/yunfan/settings/api-keys")
        page.fill("input[name=name]", f"投放平台 {language}-{size}")
        page.check("input[name=scopes][value='events:write']")
        page.click("#create-key button[type=submit]")
        page.wait_for_selector("#new-secret")
        secret = page.locator("#new-secret").inner_text().strip()
        assert secret.startswith("lc_")
        assert page.locator("[data-copy-target]").is_visible()
        _fits(page)
        _shot(page, screenshot_dir, f"api-keys-new-{language}-{size}")
        page.reload()
        assert page.locator("#new-secret").count() == 0
        assert secret not in page.content()
        page.close()
    with tenant_scope(created.tenant.id):
        assert ApiKey.objects.filter(name__startswith="投放平台").count() == 4
