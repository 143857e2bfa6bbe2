"""The interactive API docs as an integrator reads them: English parameter help, each intake
outcome described with its own example, bulk items with the lead schema, the cursor envelope.
Screenshots under test-artifacts/screenshots/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHINESE = re.compile(r"[\u3400-\u9fff]")


def _open(page: Any, operation_id: str) -> Any:
    block = page.locator(f"#operations-leads-{operation_id}")
    block.locator(".opblock-summary").first.click()
    block.locator(".opblock-body").wait_for()
    return block


def test_api_docs_explain_parameters_outcomes_and_envelopes(live_server: Any, page: Any, screenshot_dir: Path) -> None:
    page.goto(f"{live_server.url}/api/v1/docs/")
    page.get_by_text("/api/v1/leads/bulk").first.wait_for()
    assert page.locator("link[rel=icon]").get_attribute("href") == "/static/img/favicon.svg"

    listing = _open(page, "leads_list")
    descriptions = listing.locator(".parameters .parameters-col_description").all_inner_texts()
    assert len(descriptions) > 15
    assert [text for text in descriptions if CHINESE.search(text)] == []
    listing.get_by_text("Order of the list").wait_for()
    page.screenshot(path=str(screenshot_dir / "api-docs-list-parameters.png"), full_page=False)
    listing.locator(".responses-wrapper").scroll_into_view_if_needed()
    responses = listing.locator(".responses-wrapper").inner_text()
    assert "crm.example.com/api/v1/leads?" in responses and "api.example.org" not in responses
    page.screenshot(path=str(screenshot_dir / "api-docs-list-response.png"), full_page=False)

    create = _open(page, "leads_create")
    responses = create.locator(".responses-wrapper")
    responses.scroll_into_view_if_needed()
    text = responses.inner_text()
    for expected in ("created:", "merged:", "updated:", "quarantined:"):
        assert expected in text, expected
    page.screenshot(path=str(screenshot_dir / "api-docs-create-responses.png"), full_page=False)

    bulk = _open(page, "leads_bulk_create")
    request_body = bulk.locator(".opblock-section-request-body")
    request_body.locator("button.tablinks[data-name=model]").click()
    for _ in range(2):  # expand the body's model down to its items
        collapsed = request_body.locator(".model-toggle.collapsed")
        if collapsed.count():
            collapsed.first.click()
    request_body.scroll_into_view_if_needed()
    body = request_body.inner_text()
    assert "LeadCreateInput" in body and "annual_revenue" in body, body
    page.screenshot(path=str(screenshot_dir / "api-docs-bulk-request.png"), full_page=False)

    assert "API.md" not in page.locator("body").inner_text()
    assert page.csp_violations == []
