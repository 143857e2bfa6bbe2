"""API routes of the capture channels: /api/v1/imports."""

from django.urls import URLPattern, URLResolver
from rest_framework.routers import SimpleRouter

from capture.api.import_views import ImportViewSet

router = SimpleRouter()
router.trailing_slash = "/?"  # as leads': API.md paths have no slash; tolerate one
router.register("imports", ImportViewSet, basename="import")

urlpatterns: list[URLPattern | URLResolver] = [*router.urls]
