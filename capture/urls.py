"""Pages of the capture channels (import, web form)."""

from django.urls import URLPattern, URLResolver, path

from capture import import_views
from capture.webform_urls import webform_urlpatterns

app_name = "capture"
urlpatterns: list[URLPattern | URLResolver] = [
    path("<slug:tenant_slug>/imports", import_views.imports_page, name="imports"),
    path("<slug:tenant_slug>/imports/files/<int:file_id>", import_views.import_file_page, name="import-file"),
    path("<slug:tenant_slug>/imports/<int:import_id>", import_views.import_job_page, name="import-job"),
    path("<slug:tenant_slug>/imports/<int:import_id>/errors.csv", import_views.import_error_report, name="import-errors"),
    *webform_urlpatterns,
]
