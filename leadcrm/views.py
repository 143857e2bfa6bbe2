from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponseRedirect, JsonResponse
from django.templatetags.static import static
from django.utils.cache import patch_cache_control
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as error:  # noqa: BLE001 - any failure means "down"; the message says why
        return f"error: {error.__class__.__name__}"


def _check_broker() -> str:
    from leadcrm.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception as error:  # noqa: BLE001
        return f"error: {error.__class__.__name__}"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    body = {"status": "ok", "database": _check_database(), "broker": _check_broker()}
    failing = [part for part in ("database", "broker") if body[part] != "ok"]
    if failing:
        body["status"] = "error"
        body["detail"] = f"Down: {', '.join(failing)}. Check {' and '.join(_hint(p) for p in failing)}."
    return JsonResponse(body, status=503 if failing else 200)


def _hint(part: str) -> str:
    return "DATABASE_URL" if part == "database" else f"the broker at {settings.CELERY_BROKER_URL.split('@')[-1]}"


@require_GET
def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """Browsers ask for /favicon.ico whatever a page links (and API docs, feeds, bookmarks):
    send them to the SVG icon rather than a 404. Not permanent: the target's name is hashed
    in production and changes with each release."""
    response = HttpResponseRedirect(static("img/favicon.svg"))
    patch_cache_control(response, public=True, max_age=86_400)
    return response
