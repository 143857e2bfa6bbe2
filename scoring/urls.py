from django.urls import path

from scoring import views

app_name = "scoring"

urlpatterns = [
    path("<slug:tenant_slug>/leads/<int:lead_id>/score-panel", views.lead_score_panel, name="lead-score-panel"),
]
