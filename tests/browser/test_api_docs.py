from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_interactive_api_docs_render_from_local_assets_under_the_csp(
    live_server: Any, page: Any, screenshot_dir: Path
) -> None:
    external: list[str] = []
    page.on("request", lambda request: None if request.url.startswith(live_server.url) else external.append(request.url))
    page.goto(f"{live_server.url}/api/v1/docs/")
    page.get_by_text("/api/v1/leads/bulk").first.wait_for()
    assert page.get_by_text("LeadCRM API").first.is_visible()
    page.screenshot(path=str(screenshot_dir / "api-docs.png"), full_page=False)
    assert external == []  # no CDN: tenants deploy on intranets
    assert page.csp_violations == []
