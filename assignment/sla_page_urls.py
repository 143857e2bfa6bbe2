from django.urls import path

from assignment import sla_pages

app_name = "assignment"

urlpatterns = [
    path("<slug:tenant_slug>/leads/<int:lead_id>/follow-up", sla_pages.lead_follow_up_page, name="lead-follow-up"),
    path("<slug:tenant_slug>/follow-up-stats", sla_pages.follow_up_stats_page, name="follow-up-stats"),
    path("<slug:tenant_slug>/follow-up-stats/", sla_pages.follow_up_stats_page),
    path("<slug:tenant_slug>/settings/sla", sla_pages.sla_policies_page, name="sla-policies"),
    path("<slug:tenant_slug>/settings/sla/", sla_pages.sla_policies_page),
    path("<slug:tenant_slug>/settings/sla/<int:policy_id>", sla_pages.sla_policies_page, name="sla-policy"),
]
