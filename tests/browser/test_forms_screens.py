"""Manual entry, editing and the web form in a real browser, at 1440 and 390 px, in Chinese and
English, with screenshots for review under test-artifacts/screenshots/: a rep types a lead and
sees another rep's lead as a duplicate hint; an admin edits a lead, builds a web form, and the
form works inside an iframe on a page of another origin (sized by the embed script)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from capture.models import WebForm
from leadcrm.tenancy.scoping import tenant_scope
from leads.models import Lead
from tests.browser.conftest import log_in
from tests.browser.demo_data import STAFF_PASSWORD, demo_lead_book, staff_email
from tests.conftest import PASSWORD, make_tenant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]



@contextmanager
def customer_site(html: str) -> Iterator[str]:
    """The customer's own site: a page served on another loopback port (another origin) for as
    long as the block runs. (A page faked by request interception counts as a public site, and
    Chromium refuses a public site's requests to a local server.)"""
    body = html.encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/contact"
    finally:
        server.shutdown()
        server.server_close()


def _no_sideways_scrolling(page: Any) -> None:
    page.wait_for_load_state("networkidle")
    wide = page.evaluate(  # what sticks out, to say in the failure: elements, then text
        "(() => { const out = []; const w = window.innerWidth + 1;"
        " document.querySelectorAll('main *').forEach(e => { if (e.getBoundingClientRect().right > w) out.push(e.tagName + '.' + e.className); });"
        " const walk = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT); let n;"
        " while ((n = walk.nextNode())) { const r = document.createRange(); r.selectNodeContents(n);"
        " if (r.getBoundingClientRect().right > w) out.push('text: ' + n.textContent.trim().slice(0, 40)); }"
        " return out.slice(0, 6); })()"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"], wide


def _wait_for_hints(page: Any, text: str) -> None:
    deadline = time.monotonic() + 10  # polled: the page's CSP forbids eval'd predicates
    while text not in page.locator("#entry-hints").inner_text():
        assert time.monotonic() < deadline, f"no hint saying {text!r}"
        page.wait_for_timeout(50)


def test_a_rep_enters_a_lead_with_live_duplicate_hints(live_server: Any, page: Any, screenshot_dir: Path) -> None:
    created = make_tenant("yunfan")
    showcase = demo_lead_book(created, count=16)["showcase"]
    log_in(page, live_server.url, staff_email(created, "rep2"), STAFF_PASSWORD, lands_on=re.compile(r".*/yunfan/leads$"))
    page.click("a[href='/yunfan/leads/new']")
    page.wait_for_url(f"{live_server.url}/yunfan/leads/new")
    assert page.locator("h1").inner_text() == "新建线索"
    page.fill("input[name=name]", "林先生")
    page.fill("input[name=company]", "北京纷扬")
    _wait_for_hints(page, "林晓峰")
    assert showcase.mobile[3:] not in page.locator("#entry-hints").inner_text()  # another rep's: masked
    page.screenshot(path=str(screenshot_dir / "lead-new-hints-1440-zh.png"), full_page=True)
    page.fill("input[name=mobile]", "12345")
    page.click("#lead-entry-form button.btn-primary")
    page.wait_for_load_state("networkidle")
    assert "这不是有效的手机号" in page.locator("label.field.has-error").inner_text()
    assert page.input_value("input[name=company]") == "北京纷扬"
    page.screenshot(path=str(screenshot_dir / "lead-new-error-1440-zh.png"), full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    _no_sideways_scrolling(page)
    page.screenshot(path=str(screenshot_dir / "lead-new-390-zh.png"), full_page=True)
    page.click(".topbar .lang-switch button[value=en]")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == "New lead"
    _no_sideways_scrolling(page)
    page.screenshot(path=str(screenshot_dir / "lead-new-390-en.png"), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.fill("input[name=company]", "北京纷扬")
    _wait_for_hints(page, "Owner")
    page.screenshot(path=str(screenshot_dir / "lead-new-hints-1440-en.png"), full_page=True)
    assert page.csp_violations == []


def test_an_admin_edits_a_lead_and_sees_it_on_the_timeline(live_server: Any, page: Any, screenshot_dir: Path) -> None:
    created = make_tenant("yunfan")
    showcase = demo_lead_book(created, count=16)["showcase"]
    log_in(page, live_server.url, created.owner.user.email, PASSWORD, lands_on=re.compile(r".*/yunfan/leads$"))
    page.goto(f"{live_server.url}/yunfan/leads/{showcase.id}")
    page.click(f"a[href='/yunfan/leads/{showcase.id}/edit']")
    page.wait_for_url(f"{live_server.url}/yunfan/leads/{showcase.id}/edit")
    page.screenshot(path=str(screenshot_dir / "lead-edit-1440-zh.png"), full_page=True)
    page.fill("input[name=title]", "采购总监")
    page.fill("input[name=mobile]", "13800000000")
    page.click("#lead-entry-form button.btn-primary")
    page.wait_for_load_state("networkidle")
    assert "这不是有效的手机号" in page.locator("label.field.has-error").inner_text()
    page.screenshot(path=str(screenshot_dir / "lead-edit-error-1440-zh.png"), full_page=True)
    page.fill("input[name=mobile]", "159 4696 2913")
    page.click("#lead-entry-form button.btn-primary")
    page.wait_for_url(f"{live_server.url}/yunfan/leads/{showcase.id}")
    assert "修改了资料" in page.content() and "采购总监" in page.content()
    page.screenshot(path=str(screenshot_dir / "lead-detail-after-edit-1440-zh.png"), full_page=True)
    with tenant_scope(created.tenant.id):
        assert Lead.objects.get(id=showcase.id).mobile == "+8615946962913"

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/yunfan/leads/{showcase.id}/edit")
    _no_sideways_scrolling(page)
    page.screenshot(path=str(screenshot_dir / "lead-edit-390-zh.png"), full_page=True)
    page.click(".topbar .lang-switch button[value=en]")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text().startswith("Edit lead")
    _no_sideways_scrolling(page)
    page.screenshot(path=str(screenshot_dir / "lead-edit-390-en.png"), full_page=True)
    assert page.csp_violations == []


def test_an_admin_builds_a_web_form_that_works_inside_another_sites_page(
    live_server: Any, page: Any, screenshot_dir: Path
) -> None:
    created = make_tenant("yunfan")
    log_in(page, live_server.url, created.owner.user.email, PASSWORD, lands_on=re.compile(r".*/yunfan/leads$"))
    page.click(".sidenav a[href='/yunfan/settings/web-forms']")
    page.wait_for_url(f"{live_server.url}/yunfan/settings/web-forms")
    page.screenshot(path=str(screenshot_dir / "webforms-empty-1440-zh.png"), full_page=True)
    page.click("a[href='/yunfan/settings/web-forms/new']")
    page.fill("input[name=name]", "官网咨询表单")
    page.fill("input[name=source]", "官网")
    page.fill("input[name=campaign]", "2025 春季展会")
    page.check("input[name='use:email']")
    page.fill("input[name='position:email']", "4")
    page.screenshot(path=str(screenshot_dir / "webform-new-1440-zh.png"), full_page=True)
    page.click("form.wf-editor button.btn-primary")
    page.wait_for_url(re.compile(r".*/yunfan/settings/web-forms/\d+$"))
    with tenant_scope(created.tenant.id):
        form = WebForm.objects.get(name="官网咨询表单")
    snippet = page.locator("#snippet-script").inner_text()
    assert f"/f/{form.key}/embed.js" in snippet
    page.frame_locator("iframe.wf-preview-frame").locator("h1").wait_for()
    page.screenshot(path=str(screenshot_dir / "webform-edit-1440-zh.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    _no_sideways_scrolling(page)
    page.screenshot(path=str(screenshot_dir / "webform-edit-390-zh.png"), full_page=True)
    page.click(".topbar .lang-switch button[value=en]")
    page.wait_for_load_state("networkidle")
    _no_sideways_scrolling(page)
    page.screenshot(path=str(screenshot_dir / "webform-edit-390-en.png"), full_page=True)
    page.goto(f"{live_server.url}/yunfan/settings/web-forms")
    page.screenshot(path=str(screenshot_dir / "webforms-list-390-en.png"), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.screenshot(path=str(screenshot_dir / "webforms-list-1440-en.png"), full_page=True)
    assert page.csp_violations == []

    # The customer's own site (another origin) embeds the form with the script from the snippet.
    visitor = page.context.browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900})
    site = visitor.new_page()
    host_page = (
        "<!doctype html><html><head><meta charset='utf-8'><meta name='viewport' content='width=device-width'>"
        "<title>云帆 · 联系我们</title></head><body style='font-family:sans-serif;margin:0;background:#f1f5f9'>"
        "<header style='background:#0f172a;color:#fff;padding:18px 24px;font-size:20px'>云帆信息 · 联系我们</header>"
        "<main style='max-width:720px;margin:24px auto;padding:0 12px'><p>留下联系方式，顾问会在一个工作日内联系你。</p>"
        f"{snippet}</main></body></html>"
    )
    with customer_site(host_page) as site_url:
        site.goto(site_url)
        frame = site.frame_locator("iframe")
        frame.locator("input[name=mobile]").wait_for()
        site.wait_for_timeout(500)  # the frame reports its height; the script resizes it
        height = site.evaluate("document.querySelector('iframe').getBoundingClientRect().height")
        assert height != 640  # sized to the form, not the script's starting height
        site.screenshot(path=str(screenshot_dir / "webform-embedded-1440-zh.png"), full_page=True)
        frame.locator("input[name=name]").fill("王芳")
        frame.locator("input[name=mobile]").fill("159 4696 2913")
        frame.locator("input[name=email]").fill("wang.fang@yunfan-it.cn")
        site.wait_for_timeout(2100)  # a person takes a moment; the time trap refuses faster posts
        frame.locator("button.wf-submit").click()
        frame.locator(".wf-thanks").wait_for()
        site.screenshot(path=str(screenshot_dir / "webform-embedded-thanks-1440-zh.png"), full_page=True)
        with tenant_scope(created.tenant.id):
            lead = Lead.objects.get(mobile="+8615946962913")
        assert (lead.source, lead.campaign, lead.email) == ("官网", "2025 春季展会", "wang.fang@yunfan-it.cn")

        site.set_viewport_size({"width": 390, "height": 844})
        site.goto(site_url)
        frame = site.frame_locator("iframe")
        frame.locator("a.wf-lang").click()
        frame.locator("button.wf-submit").wait_for()
        assert frame.locator("button.wf-submit").inner_text() == "Submit"
        frame.locator("input[name=mobile]").fill("12345")
        site.wait_for_timeout(2100)
        frame.locator("button.wf-submit").click()
        frame.locator(".wf-error").first.wait_for()
        site.wait_for_timeout(300)
        site.screenshot(path=str(screenshot_dir / "webform-embedded-error-390-en.png"), full_page=True)
        visitor.close()
