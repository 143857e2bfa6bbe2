from csp.decorators import csp_update
from django.urls import URLPattern, URLResolver, include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from leadcrm import views
from leadcrm.api.views import api_route_not_found

api_v1: list[URLPattern | URLResolver] = [
    path("", include("leads.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
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
    path("api/v1/", include(api_v1)),
    re_path(r"^api(/|$)", api_route_not_found),  # after every API route: the rest is a problem+json 404
    path("", include("leadcrm.tenancy.urls")),
    path("", include("leads.urls")),
]
