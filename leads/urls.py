from django.urls import path

from leads import dedup_views, views

app_name = "leads"

# APPEND_SLASH is off: the paths people type get both spellings.
urlpatterns = [
    path("<slug:tenant_slug>", views.tenant_home_page, name="tenant-home"),
    path("<slug:tenant_slug>/", views.tenant_home_page),
    path("<slug:tenant_slug>/leads", views.lead_list_page, name="list"),
    path("<slug:tenant_slug>/leads/", views.lead_list_page),
    path("<slug:tenant_slug>/leads/<int:lead_id>", views.lead_detail_page, name="detail"),
    path("<slug:tenant_slug>/leads/<int:lead_id>/", views.lead_detail_page),
    path("<slug:tenant_slug>/settings/dedup", dedup_views.dedup_rules_page, name="dedup-rules"),
    path("<slug:tenant_slug>/settings/dedup/", dedup_views.dedup_rules_page),
    path("<slug:tenant_slug>/settings/dedup/<int:rule_id>", dedup_views.dedup_rule_page, name="dedup-rule"),
    path("<slug:tenant_slug>/settings/dedup/<int:rule_id>/", dedup_views.dedup_rule_page),
    path("<slug:tenant_slug>/settings/company-aliases", dedup_views.company_aliases_page, name="company-aliases"),
    path("<slug:tenant_slug>/settings/company-aliases/", dedup_views.company_aliases_page),
]
