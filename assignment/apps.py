from django.apps import AppConfig


class AssignmentConfig(AppConfig):
    name = "assignment"

    def ready(self) -> None:
        from assignment.pool_entry import POOLS_PROBE_SQL, PROBE_NAME, intake_leads_place
        from assignment.receivers import (
            ROUTING_PROBE_NAME,
            ROUTING_PROBE_SQL,
            intake_arrivals_route,
            lead_became_mature_route,
        )
        from assignment.services import pool_defaults_install
        from leadcrm.tenancy.defaults import tenant_defaults_register
        from leads.intake.config import intake_config_probe_register
        from leads.intake.hooks import intake_hook_register
        from scoring.signals import lead_became_mature

        tenant_defaults_register(name="assignment.pools", installer=pool_defaults_install)
        # After scoring's persisting hook (scoring is installed first, so its ready() ran
        # first): entry conditions on grade and tier see the score intake is about to write.
        intake_config_probe_register(name=PROBE_NAME, sql=POOLS_PROBE_SQL)
        intake_config_probe_register(name=ROUTING_PROBE_NAME, sql=ROUTING_PROBE_SQL)
        intake_hook_register(name="assignment.pool_entry", when="persisting", hook=intake_leads_place)
        intake_hook_register(name="assignment.route", when="persisting", hook=intake_arrivals_route)
        lead_became_mature.connect(lead_became_mature_route, dispatch_uid="assignment.lead_became_mature_route")

        from assignment.timeline import lead_timeline_rows
        from leads.timeline_extensions import lead_timeline_register

        lead_timeline_register(name="assignment.follow_ups", provider=lead_timeline_rows)

        from assignment.bulk_views import lead_list_bulk_bar
        from leads.list_extensions import lead_list_bulk_bar_register

        lead_list_bulk_bar_register(provider=lead_list_bulk_bar)
