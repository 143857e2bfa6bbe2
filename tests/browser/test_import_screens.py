"""A manager imports a GBK CSV in a real browser: upload, mapping, dry run (nothing written),
the import itself with its counts and error report; at 1440 and 390 px, in Chinese and
English, with screenshots for review under test-artifacts/screenshots/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from capture.import_models import ImportJob
from capture.import_services import import_job_run
from leadcrm.tenancy.scoping import tenant_scope
from leads.models import Lead
from tests.browser.conftest import log_in
from tests.capture.helpers import csv_bytes, good_rows
from tests.conftest import PASSWORD, make_tenant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _run_latest(tenant_id: int) -> None:
    """What the worker does with the job the page queued (tests/capture has the real worker)."""
    with tenant_scope(tenant_id):
        job = ImportJob.objects.order_by("-id").first()
    assert job is not None
    import_job_run(tenant_id=tenant_id, job_id=job.id)


def _narrow(page: Any, path: Path) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})


def test_a_manager_dry_runs_then_imports_a_gbk_file(live_server: Any, page: Any, screenshot_dir: Path, tmp_path: Path) -> None:
    created = make_tenant("xinghe")
    slug = created.tenant.slug
    rows = good_rows(12) + [["王五", "12345", "某公司", "", "北京"], ["赵六", "", "", "not-an-email", ""]]
    upload = tmp_path / "展会名单.csv"
    upload.write_bytes(csv_bytes(rows, encoding="gbk"))

    log_in(page, live_server.url, created.owner.user.email, PASSWORD)
    page.click(f".sidenav a[href='/{slug}/imports']")
    page.wait_for_url(f"{live_server.url}/{slug}/imports")
    assert page.locator("h1").inner_text() == "导入线索"
    page.screenshot(path=str(screenshot_dir / "import-list-empty-zh.png"), full_page=True)

    page.set_input_files("input[name=file]", str(upload))
    page.click("form.imp-upload button[type=submit]")
    page.wait_for_url(re.compile(rf".*/{slug}/imports/files/\d+$"))
    assert page.locator("select[name=column-1]").input_value() == "mobile"  # 手机号码, guessed
    assert page.locator("select[name=column-2]").input_value() == "company"
    page.fill("input[name=source]", "2025 展会")
    page.screenshot(path=str(screenshot_dir / "import-mapping-zh.png"), full_page=True)
    _narrow(page, screenshot_dir / "import-mapping-390-zh.png")

    page.click("button[value=dry_run]")
    page.wait_for_url(re.compile(rf".*/{slug}/imports/\d+$"))
    _run_latest(created.tenant.id)
    page.reload()
    main = page.locator("main").inner_text()
    assert "没有写入任何线索" in main and "手机号无效" in main
    assert page.locator(".imp-preview tbody tr").count() == 14
    with tenant_scope(created.tenant.id):
        assert Lead.objects.count() == 0
    page.screenshot(path=str(screenshot_dir / "import-dry-run-zh.png"), full_page=True)
    _narrow(page, screenshot_dir / "import-dry-run-390-zh.png")

    page.click("button[value=import]")
    page.wait_for_url(re.compile(rf".*/{slug}/imports/\d+$"))
    _run_latest(created.tenant.id)
    page.reload()
    assert page.locator(".imp-count-created dd").inner_text() == "12"
    assert page.locator("a[href$='/errors.csv']").count() == 1
    with tenant_scope(created.tenant.id):
        assert Lead.objects.filter(source="2025 展会").count() == 12
    page.screenshot(path=str(screenshot_dir / "import-done-zh.png"), full_page=True)

    # English
    page.click(".topbar .lang-switch button[value=en]")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == "Import progress"
    assert "Download the error report" in page.locator("main").inner_text()
    page.screenshot(path=str(screenshot_dir / "import-done-en.png"), full_page=True)
    _narrow(page, screenshot_dir / "import-done-390-en.png")
    page.goto(f"{live_server.url}/{slug}/imports")
    assert page.locator(".imp-job").count() == 2
    page.screenshot(path=str(screenshot_dir / "import-list-en.png"), full_page=True)
    _narrow(page, screenshot_dir / "import-list-390-en.png")
    page.locator(".imp-job-name").last.click()  # the dry run
    page.wait_for_url(re.compile(rf".*/{slug}/imports/\d+$"))
    assert "This was a dry run" in page.locator("main").inner_text()
    page.screenshot(path=str(screenshot_dir / "import-dry-run-en.png"), full_page=True)
    _narrow(page, screenshot_dir / "import-dry-run-390-en.png")
    assert page.csp_violations == []
