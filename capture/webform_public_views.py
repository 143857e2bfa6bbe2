"""The public web form at /f/<key>: no log-in, in the form's language (a switch to the other),
framable by any site (this view alone loosens X-Frame-Options and CSP frame-ancestors), and
working without JavaScript: a plain POST answered with the thank-you page.

Protection, since the form is open to the world:
- a signed, time-stamped token instead of the CSRF cookie a third-party frame would lose; it
  doubles as the time trap (capture.webform_tokens), refused politely with the values kept;
- a honeypot field people never see: a post that fills it is counted as a bot and answered
  with the thank-you page (a bot learns nothing), and creates no lead;
- a limit of posts per minute per IP address (the cache's counter), answered with 429.
A quarantined submission is thanked like any other: the blacklist is not revealed.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from capture.webform_models import WebForm, WebFormLanguage
from capture.webform_selectors import webform_by_key
from capture.webform_services import UTM_NAMES, FormField, form_fields, webform_bot_record, webform_submit
from capture.webform_tokens import TOKEN_MAX_AGE, form_token_make, form_token_problem
from leadcrm.cache import cache_incr
from leadcrm.tenancy.scoping import tenant_scope
from leads.intake.custom_fields import custom_field_definitions

HONEYPOT_FIELD = "website"  # a name form-filling bots cannot resist
TOKEN_FIELD = "form_token"
LANGUAGE_PARAM = "lang"
RATE_WINDOW_SECONDS = 60
FRAME_HEADERS = {"frame-ancestors": ["*"]}


def _posts_per_minute() -> int:
    return int(getattr(settings, "WEBFORM_POSTS_PER_MINUTE_PER_IP", 10))


def _framable(response: HttpResponse) -> HttpResponse:
    """Any site may show this page in a frame (the form is meant to be embedded)."""
    response.xframe_options_exempt = True  # read by XFrameOptionsMiddleware
    response._csp_replace = FRAME_HEADERS  # type: ignore[attr-defined]  # read by django-csp's middleware
    return response


def _language(request: HttpRequest, form: WebForm | None) -> str:
    wanted = request.GET.get(LANGUAGE_PARAM) or request.POST.get(LANGUAGE_PARAM) or ""
    if wanted in WebFormLanguage.values:
        return wanted
    return form.language if form is not None else settings.LANGUAGE_CODE


def _is_rate_limited(request: HttpRequest) -> bool:
    ip = request.META.get("REMOTE_ADDR", "") or "unknown"
    window = int(time.time() // RATE_WINDOW_SECONDS)
    return cache_incr(f"webform:posts:{ip}:{window}", timeout=RATE_WINDOW_SECONDS * 2) > _posts_per_minute()


def _token_first_use(token: str) -> bool:
    """Whether this token posts for the first time (each rendering submits once)."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    return bool(cache.add(f"webform:token:{digest}", 1, timeout=TOKEN_MAX_AGE))


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, language: str, status: int = 200
) -> HttpResponse:
    with translation.override(language):
        response = render(request, template, {**context, "language": language}, status=status)
    response["Content-Language"] = language
    return _framable(response)


def _form_context(
    request: HttpRequest, form: WebForm, fields: list[FormField], *, language: str, values: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None, notice: str = "",
) -> dict[str, Any]:
    values = values or {}
    errors = errors or {}
    other = WebFormLanguage.EN if language != WebFormLanguage.EN else WebFormLanguage.ZH
    source = request.POST if request.method == "POST" else request.GET
    return {
        "form": form,
        "rows": [{"field": spec, "value": values.get(spec.name, ""), "errors": errors.get(spec.name, [])} for spec in fields],
        "form_errors": errors.get("__all__", []),
        "token": form_token_make(key=form.key),
        "token_field": TOKEN_FIELD,
        "honeypot_field": HONEYPOT_FIELD,
        "utm": [(name, source.get(name, "")[:100]) for name in UTM_NAMES if source.get(name)],
        "notice": notice,
        "is_preview": request.GET.get("preview") == "1",
        "other_language": other,
        "other_language_label": WebFormLanguage(other).label,
        "action": reverse("capture:webform-public", kwargs={"key": form.key}),
        "frame_script": static("js/webform_frame.js"),
    }


def _not_found(request: HttpRequest) -> HttpResponse:
    return _render(request, "capture/webform_unavailable.html", {}, language=_language(request, None), status=404)


@csrf_exempt  # third-party frames lose cookies; the signed form token protects the post instead
@require_http_methods(["GET", "HEAD", "POST"])
def webform_public_page(request: HttpRequest, key: str) -> HttpResponse:
    form = webform_by_key(key=key)
    if form is None or not form.is_active:  # an unknown key and a switched-off form look the same
        return _not_found(request)
    language = _language(request, form)
    if request.method == "POST" and _is_rate_limited(request):
        return _render(request, "capture/webform_rate_limited.html", {"form": form}, language=language, status=429)
    with tenant_scope(form.tenant_id), translation.override(language):
        fields = form_fields(form=form, definitions=custom_field_definitions(tenant=form.tenant))
        if request.method != "POST":
            return _render(request, "capture/webform_public.html", _form_context(request, form, fields, language=language),
                           language=language)
        values = {spec.name: request.POST.get(spec.name, "") for spec in fields}
        if request.POST.get(HONEYPOT_FIELD):
            webform_bot_record(form=form)
            return _render(request, "capture/webform_thanks.html", {"form": form}, language=language)
        problem = form_token_problem(token=request.POST.get(TOKEN_FIELD, ""), key=form.key)
        if problem is not None:
            notice = {
                "too_fast": translation.gettext("提交得太快了，请确认内容后再点一次“提交”。"),
                "expired": translation.gettext("这个页面打开太久，已经过期。内容还在，请再点一次“提交”。"),
            }.get(problem, translation.gettext("没能确认这次提交来自本表单。内容还在，请再点一次“提交”。"))
            context = _form_context(request, form, fields, language=language, values=values, notice=notice)
            return _render(request, "capture/webform_public.html", context, language=language, status=400)
        if not _token_first_use(request.POST.get(TOKEN_FIELD, "")):
            # The same rendering posted again (a reload of the thank-you page, a double click):
            # it was taken in the first time.
            return _render(request, "capture/webform_thanks.html", {"form": form}, language=language)
        utm = {name: request.POST.get(name, "") for name in UTM_NAMES}
        result = webform_submit(form=form, fields=fields, values=values, utm=utm)
        if not result.is_accepted:
            context = _form_context(request, form, fields, language=language, values=values, errors=result.errors)
            return _render(request, "capture/webform_public.html", context, language=language, status=400)
    return _render(request, "capture/webform_thanks.html", {"form": form}, language=language)


@require_http_methods(["GET", "HEAD"])
def webform_embed_script(request: HttpRequest, key: str) -> HttpResponse:
    """The script an admin pastes into their site: it puts the form's frame where the script
    stands and keeps the frame as tall as the form (the form posts its height)."""
    form = webform_by_key(key=key)
    if form is None:
        return HttpResponse("/* no such form */", status=404, content_type="text/javascript")
    url = request.build_absolute_uri(reverse("capture:webform-public", kwargs={"key": form.key}))
    response = render(request, "capture/webform_embed.js", {"form_url": url, "key": form.key},
                      content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response
