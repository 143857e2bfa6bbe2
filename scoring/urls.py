from django.urls import path

from scoring import rule_set_views, settings_views, views

app_name = "scoring"

urlpatterns = [
    path("<slug:tenant_slug>/leads/<int:lead_id>/score-panel", views.lead_score_panel, name="lead-score-panel"),
    # 分组建议动作 / Group actions (admins)
    path("<slug:tenant_slug>/settings/group-actions", settings_views.group_actions_page, name="group-actions"),
    path("<slug:tenant_slug>/settings/group-actions/", settings_views.group_actions_page),
    path("<slug:tenant_slug>/settings/scoring", rule_set_views.rule_sets_page, name="rule-sets"),
    path("<slug:tenant_slug>/settings/scoring/<int:rule_set_id>", rule_set_views.rule_set_page, name="rule-set"),
    path("<slug:tenant_slug>/settings/scoring/<int:rule_set_id>/preview", rule_set_views.rule_set_preview_page,
         name="rule-set-preview"),
    path("<slug:tenant_slug>/settings/scoring/jobs/<int:job_id>", rule_set_views.rescore_job_page, name="rescore-job"),
]
