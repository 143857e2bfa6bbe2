from csp.decorators import csp_update
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from leadcrm import views

api_v1 = [
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
    path("favicon.ico", views.favicon, name="favicon"),
    path("api/v1/", include(api_v1)),
    path("", include("leadcrm.tenancy.urls")),
    path("", include("leads.urls")),
]
