from django.urls import path

from leads import settings_views, views

app_name = "leads"

# APPEND_SLASH is off: the paths people type get both spellings.
urlpatterns = [
    path("<slug:tenant_slug>", views.tenant_home_page, name="tenant-home"),
    path("<slug:tenant_slug>/", views.tenant_home_page),
    path("<slug:tenant_slug>/leads", views.lead_list_page, name="list"),
    path("<slug:tenant_slug>/leads/", views.lead_list_page),
    path("<slug:tenant_slug>/leads/<int:lead_id>", views.lead_detail_page, name="detail"),
    path("<slug:tenant_slug>/leads/<int:lead_id>/", views.lead_detail_page),
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
]
