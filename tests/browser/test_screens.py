"""The screens a newcomer meets, in both languages, on a phone (390 px) and a desktop (1440 px):
the lead list, a lead, the user menu, the 404 and the 500 page. Each run leaves screenshots
under test-artifacts/screenshots/ for review; the assertions cover what broke before (names
shown as raw e-mail addresses, the e-mail breaking mid-word, pages wider than the screen)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.urls import path

from leadcrm.tenancy.models import Role
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import CreatedTenant, membership_create, tenant_create, user_get_or_create
from leadcrm.urls import urlpatterns as product_urlpatterns
from leads.intake import lead_intake_many
from leads.models import Lead
from tests.browser.conftest import log_in
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MANAGER_EMAIL = "zhao.xiaoming.sales-manager@yunfan-cloud-technology.example"
SIZES = {"1440": {"width": 1440, "height": 900}, "390": {"width": 390, "height": 844}}


def _broken_page(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


urlpatterns = [path("broken-page", _broken_page), *product_urlpatterns]


def _lead_book() -> tuple[CreatedTenant, Lead]:
    created = tenant_create(slug="yunfan", name="云帆网络科技", admin_email="owner@yunfan.example", admin_password=PASSWORD)
    manager = user_get_or_create(email=MANAGER_EMAIL, password=PASSWORD)  # no name: the papercut
    membership_create(tenant=created.tenant, user=manager, role=Role.MANAGER)
    rep = user_get_or_create(email="wang.fang@yunfan.example", password=PASSWORD, name="王芳")
    membership_create(tenant=created.tenant, user=rep, role=Role.REP, display_name="王芳")
    sources = ["官网", "客户转介绍", "抖音", "官网", "展会", "客户转介绍", "百度推广"]
    payloads = [
        {
            "name": f"客户{i:02d}", "mobile": f"139{10_000_000 + i * 7919:08d}", "company": f"杭州云帆{i % 7}号科技有限公司",
            "source": sources[i % len(sources)], "province": "浙江", "city": "杭州",
            "annual_revenue": str([8_500, 125_000, 12_500_000, 320_000_000, 3_250_000_000][i % 5]),
        }
        for i in range(60)
    ]
    with tenant_scope(created.tenant.id):
        leads = [o.lead for o in lead_intake_many(tenant=created.tenant, payloads=payloads, channel="api") if o.lead]
        Lead.objects.filter(id__in=[lead.id for lead in leads[::3]]).update(owner_id=manager.id)
        Lead.objects.filter(id__in=[lead.id for lead in leads[1::3]]).update(owner_id=rep.id)
    return created, leads[-3]  # the manager's: the detail page names its owner


@pytest.fixture
def book() -> tuple[CreatedTenant, Lead]:
    return _lead_book()


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


def _log_in(page: Any, base_url: str) -> None:
    log_in(page, base_url, MANAGER_EMAIL, PASSWORD, lands_on=f"{base_url}/yunfan/leads")


def _fits_the_screen(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


@pytest.mark.urls(__name__)
def test_newcomer_screens_in_both_languages_and_sizes(
    live_server: Any, contexts: dict[tuple[str, str], Any], book: tuple[CreatedTenant, Lead], screenshot_dir: Path
) -> None:
    _created, lead = book
    for (language, size), context in contexts.items():
        page = context.new_page()
        page.set_default_timeout(10_000)
        suffix = f"{language}-{size}"
        _log_in(page, live_server.url)

        page.goto(f"{live_server.url}/yunfan/leads")
        page.screenshot(path=str(screenshot_dir / f"screens-lead-list-{suffix}.png"))
        assert _fits_the_screen(page), f"lead list wider than {size} px"

        page.click(".user-menu summary")
        menu = page.locator(".user-menu .menu-panel")
        menu.wait_for()
        page.screenshot(path=str(screenshot_dir / f"screens-user-menu-{suffix}.png"))
        assert MANAGER_EMAIL not in page.locator(".user-menu summary").inner_text()  # a name, not the address
        box = menu.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= SIZES[size]["width"]
        # The address wraps at its @ if at all: each part stays on one line.
        parts = page.eval_on_selector_all(
            ".menu-email .email-part",
            "parts => parts.map(p => p.getBoundingClientRect().height / parseFloat(getComputedStyle(p).lineHeight))",
        )
        assert len(parts) == 2 and all(lines < 1.5 for lines in parts), parts

        page.goto(f"{live_server.url}/yunfan/leads/{lead.id}")
        page.screenshot(path=str(screenshot_dir / f"screens-lead-detail-{suffix}.png"), full_page=True)
        assert _fits_the_screen(page), f"lead detail wider than {size} px"

        page.goto(f"{live_server.url}/no/such/page")
        page.screenshot(path=str(screenshot_dir / f"screens-404-{suffix}.png"))
        page.goto(f"{live_server.url}/broken-page")
        page.screenshot(path=str(screenshot_dir / f"screens-500-{suffix}.png"))
        assert page.locator("link[rel=stylesheet]").count() == 1
        assert page.evaluate("getComputedStyle(document.querySelector('.brand-mark')).borderRadius") == "8px"  # styled
        page.close()
