"""Pages of the capture channels (import, web form)."""

from django.urls import URLPattern, URLResolver

from capture.webform_urls import webform_urlpatterns

app_name = "capture"
urlpatterns: list[URLPattern | URLResolver] = [*webform_urlpatterns]
