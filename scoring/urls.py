from django.urls import path

from scoring import settings_views, views

app_name = "scoring"

urlpatterns = [
    path("<slug:tenant_slug>/leads/<int:lead_id>/score-panel", views.lead_score_panel, name="lead-score-panel"),
    path("<slug:tenant_slug>/settings/scoring", settings_views.rule_sets_page, name="rule-sets"),
    path("<slug:tenant_slug>/settings/scoring/<int:rule_set_id>", settings_views.rule_set_page, name="rule-set"),
    path("<slug:tenant_slug>/settings/scoring/<int:rule_set_id>/preview", settings_views.rule_set_preview_page,
         name="rule-set-preview"),
    path("<slug:tenant_slug>/settings/scoring/jobs/<int:job_id>", settings_views.rescore_job_page, name="rescore-job"),
]
