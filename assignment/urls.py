from django.urls import path

from assignment import bulk_views, page_views, sla_pages

app_name = "assignment"

urlpatterns = [
    # 公海 (every member)
    path("<slug:tenant_slug>/public-pool", page_views.public_pool_page, name="public-pool"),
    path("<slug:tenant_slug>/public-pool/", page_views.public_pool_page),
    path("<slug:tenant_slug>/public-pool/<int:lead_id>/claim", page_views.public_pool_claim, name="claim"),
    # The lead page's actions panel (loaded by htmx) and its forms
    path("<slug:tenant_slug>/leads/<int:lead_id>/actions", page_views.lead_actions_panel, name="lead-actions"),
    path("<slug:tenant_slug>/leads/<int:lead_id>/actions/do", page_views.lead_action, name="lead-action"),
    # The lead list's bulk actions (the bar is rendered into the list by leads.list_extensions)
    path("<slug:tenant_slug>/leads/bulk", bulk_views.lead_bulk_action, name="lead-bulk"),
    # 线索池 / Pools and their rules (admins)
    path("<slug:tenant_slug>/settings/pools", page_views.pools_page, name="pools"),
    path("<slug:tenant_slug>/settings/pools/", page_views.pools_page),
    path("<slug:tenant_slug>/settings/pools/new", page_views.pool_page, name="pool-new"),
    path("<slug:tenant_slug>/settings/pools/<int:pool_id>", page_views.pool_page, name="pool"),
    path("<slug:tenant_slug>/settings/pools/<int:pool_id>/rules/new", page_views.rule_page, name="rule-new"),
    path("<slug:tenant_slug>/settings/pools/<int:pool_id>/rules/<int:assignment_rule_id>", page_views.rule_page, name="rule"),
    path("<slug:tenant_slug>/settings/pools/<int:pool_id>/rules/<int:assignment_rule_id>/move", page_views.rule_move,
         name="rule-move"),
    path("<slug:tenant_slug>/settings/pools/<int:pool_id>/rules/<int:assignment_rule_id>/delete", page_views.rule_delete_page,
         name="rule-delete"),
    # Follow-ups, their statistics and the SLA policies
    path("<slug:tenant_slug>/leads/<int:lead_id>/follow-up", sla_pages.lead_follow_up_page, name="lead-follow-up"),
    path("<slug:tenant_slug>/follow-up-stats", sla_pages.follow_up_stats_page, name="follow-up-stats"),
    path("<slug:tenant_slug>/follow-up-stats/", sla_pages.follow_up_stats_page),
    path("<slug:tenant_slug>/settings/sla", sla_pages.sla_policies_page, name="sla-policies"),
    path("<slug:tenant_slug>/settings/sla/", sla_pages.sla_policies_page),
    path("<slug:tenant_slug>/settings/sla/<int:policy_id>", sla_pages.sla_policies_page, name="sla-policy"),
]
