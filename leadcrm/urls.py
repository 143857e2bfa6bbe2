from collections.abc import Callable
from functools import wraps
from typing import Any

from csp.decorators import csp_update
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, include, path, re_path
from django.utils import translation
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from assignment.people_urls import api_urlpatterns as people_api_urls
from leadcrm import views
from leadcrm.api.views import api_route_not_found


def in_english(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The API speaks English, and so does its schema. Requests under /api/ skip the locale
    middleware, so lazy texts (choice labels, DRF's own descriptions) would otherwise come out
    in the default language, Chinese. `?lang=` still picks another."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with translation.override("en"):
            return view(request, *args, **kwargs)

    return wrapper


api_v1: list[URLPattern | URLResolver] = [
    path("", include("scoring.api.urls")),  # before leads': it serves /leads/{id}/score
    path("", include("assignment.api.urls")),  # before leads': it serves /leads/{id}/assign and the other actions
    path("", include("assignment.api.sla_urls")),  # before leads': /leads/{id}/follow-ups, /timeline
    path("", include("leads.api.urls")),
    path("", include("capture.api.urls")),
    path("", include(people_api_urls)),
    path("", include("leadcrm.bell.api_urls")),
    path("schema/", in_english(SpectacularAPIView.as_view()), name="api-schema"),
    # The split view serves Swagger UI's init code as a file: the CSP allows no inline script.
    # Swagger UI sets inline styles, so this page alone also allows inline *styles*.
    path(
        "docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
]

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("api/v1/", include(api_v1)),
    re_path(r"^api(/|$)", api_route_not_found),  # after every API route: the rest is a problem+json 404
    path("", include("leadcrm.tenancy.urls")),
    path("", include("scoring.urls")),
    path("", include("assignment.urls")),
    path("", include("leads.urls")),
    path("", include("capture.urls")),
    path("", include("assignment.people_urls")),
    path("", include("leadcrm.bell.urls")),
]
