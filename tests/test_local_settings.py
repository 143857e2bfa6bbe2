"""`make demo` runs the local settings: safe unless asked otherwise (issue: the debug page)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from django.conf import settings

# Runs in a fresh interpreter so the environment, not this test run's settings, decides.
_PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
statuses = {
    host: Client(HTTP_HOST=host).get("/favicon.ico").status_code
    for host in ("127.0.0.1:8000", "localhost:8000", "[::1]:8000", "evil.example")
}
static = Client().get("/static/css/app.css")
print(json.dumps({"debug": settings.DEBUG, "hosts": statuses, "static": static.status_code}))
"""


def _probe(**env_overrides: str) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update({"DJANGO_SETTINGS_MODULE": "leadcrm.settings.local", **env_overrides})
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-c", _PROBE], env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_local_settings_keep_debug_off_and_still_serve_static_files():
    probe = _probe()
    assert probe["debug"] is False
    assert probe["static"] == 200  # whitenoise finds them in the app directories, no collectstatic
    assert probe["hosts"] == {"127.0.0.1:8000": 302, "localhost:8000": 302, "[::1]:8000": 302, "evil.example": 400}


def test_debug_is_on_only_when_asked_for():
    assert _probe(DEBUG="true")["debug"] is True
