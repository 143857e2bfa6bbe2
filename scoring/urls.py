from django.urls import path

from scoring import settings_views, views

app_name = "scoring"

urlpatterns = [
    path("<slug:tenant_slug>/leads/<int:lead_id>/score-panel", views.lead_score_panel, name="lead-score-panel"),
    # 分组建议动作 / Group actions (admins)
    path("<slug:tenant_slug>/settings/group-actions", settings_views.group_actions_page, name="group-actions"),
    path("<slug:tenant_slug>/settings/group-actions/", settings_views.group_actions_page),
]
