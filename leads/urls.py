from django.urls import path

from leads import dedup_search_views, quarantine_views, views

app_name = "leads"

# APPEND_SLASH is off: the paths people type get both spellings.
urlpatterns = [
    path("<slug:tenant_slug>", views.tenant_home_page, name="tenant-home"),
    path("<slug:tenant_slug>/", views.tenant_home_page),
    path("<slug:tenant_slug>/leads", views.lead_list_page, name="list"),
    path("<slug:tenant_slug>/leads/", views.lead_list_page),
    path("<slug:tenant_slug>/leads/<int:lead_id>", views.lead_detail_page, name="detail"),
    path("<slug:tenant_slug>/leads/<int:lead_id>/", views.lead_detail_page),
    path(
        "<slug:tenant_slug>/leads/<int:lead_id>/transfer-request", dedup_search_views.lead_transfer_request_action,
        name="transfer-request",
    ),
    path("<slug:tenant_slug>/dedup-search", dedup_search_views.dedup_search_page, name="dedup-search"),
    path("<slug:tenant_slug>/dedup-search/", dedup_search_views.dedup_search_page),
    path("<slug:tenant_slug>/quarantine", quarantine_views.quarantine_list_page, name="quarantine"),
    path("<slug:tenant_slug>/quarantine/", quarantine_views.quarantine_list_page),
    path(
        "<slug:tenant_slug>/quarantine/purge", quarantine_views.quarantine_purge_selected,
        name="quarantine-purge-selected",
    ),
    path(
        "<slug:tenant_slug>/quarantine/<int:record_id>", quarantine_views.quarantine_detail_page,
        name="quarantine-detail",
    ),
    path(
        "<slug:tenant_slug>/quarantine/<int:record_id>/restore", quarantine_views.quarantine_restore,
        name="quarantine-restore",
    ),
    path(
        "<slug:tenant_slug>/quarantine/<int:record_id>/purge", quarantine_views.quarantine_purge,
        name="quarantine-purge",
    ),
]
