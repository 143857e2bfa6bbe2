"""API routes of the capture channels: /api/v1/imports."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
