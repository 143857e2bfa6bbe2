from django.urls import path

from leads import (
    dedup_search_views,
    dedup_views,
    export_views,
    lead_entry_views,
    quarantine_views,
    saved_view_views,
    settings_views,
    views,
)

app_name = "leads"

# APPEND_SLASH is off: the paths people type get both spellings.
urlpatterns = [
    path("<slug:tenant_slug>", views.tenant_home_page, name="tenant-home"),
    path("<slug:tenant_slug>/", views.tenant_home_page),
    path("<slug:tenant_slug>/leads", views.lead_list_page, name="list"),
    path("<slug:tenant_slug>/leads/", views.lead_list_page),
    path("<slug:tenant_slug>/leads/export", export_views.lead_export_download, name="export"),
    path("<slug:tenant_slug>/leads/views", saved_view_views.saved_view_list_page, name="saved-views"),
    path(
        "<slug:tenant_slug>/leads/views/<int:view_id>", saved_view_views.saved_view_update_action,
        name="saved-view-update",
    ),
    path(
        "<slug:tenant_slug>/leads/views/<int:view_id>/delete", saved_view_views.saved_view_delete_action,
        name="saved-view-delete",
    ),
    path(
        "<slug:tenant_slug>/leads/views/<int:view_id>/default", saved_view_views.saved_view_default_action,
        name="saved-view-default",
    ),
    path("<slug:tenant_slug>/leads/new", lead_entry_views.lead_new_page, name="new"),
    path("<slug:tenant_slug>/leads/new/hints", lead_entry_views.lead_duplicate_hints, name="new-hints"),
    path("<slug:tenant_slug>/leads/<int:lead_id>", views.lead_detail_page, name="detail"),
    path("<slug:tenant_slug>/leads/<int:lead_id>/edit", lead_entry_views.lead_edit_page, name="edit"),
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
    # 清洗规则 / Cleansing (admins)
    path("<slug:tenant_slug>/settings/cleansing", settings_views.cleansing_blacklist_page, name="cleansing-blacklist"),
    path("<slug:tenant_slug>/settings/cleansing/", settings_views.cleansing_blacklist_page),
    path(
        "<slug:tenant_slug>/settings/cleansing/blacklist/import", settings_views.cleansing_blacklist_import,
        name="cleansing-blacklist-import",
    ),
    path(
        "<slug:tenant_slug>/settings/cleansing/blacklist/<int:entry_id>/delete", settings_views.cleansing_blacklist_delete,
        name="cleansing-blacklist-delete",
    ),
    path("<slug:tenant_slug>/settings/cleansing/words", settings_views.cleansing_words_page, name="cleansing-words"),
    path(
        "<slug:tenant_slug>/settings/cleansing/words/import", settings_views.cleansing_words_import,
        name="cleansing-words-import",
    ),
    path(
        "<slug:tenant_slug>/settings/cleansing/words/builtin", settings_views.cleansing_builtin_switch,
        name="cleansing-words-builtin",
    ),
    path(
        "<slug:tenant_slug>/settings/cleansing/words/<int:word_id>/delete", settings_views.cleansing_word_delete,
        name="cleansing-word-delete",
    ),
    path("<slug:tenant_slug>/settings/cleansing/policy", settings_views.cleansing_policy_page, name="cleansing-policy"),
    path("<slug:tenant_slug>/settings/dedup", dedup_views.dedup_rules_page, name="dedup-rules"),
    path("<slug:tenant_slug>/settings/dedup/", dedup_views.dedup_rules_page),
    path("<slug:tenant_slug>/settings/dedup/<int:rule_id>", dedup_views.dedup_rule_page, name="dedup-rule"),
    path("<slug:tenant_slug>/settings/dedup/<int:rule_id>/", dedup_views.dedup_rule_page),
    path("<slug:tenant_slug>/settings/company-aliases", dedup_views.company_aliases_page, name="company-aliases"),
    path("<slug:tenant_slug>/settings/company-aliases/", dedup_views.company_aliases_page),
]
