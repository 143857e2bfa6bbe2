from django.apps import AppConfig


class AssignmentConfig(AppConfig):
    name = "assignment"

    def ready(self) -> None:
        from assignment.services import pool_defaults_install
        from leadcrm.tenancy.defaults import tenant_defaults_register

        tenant_defaults_register(name="assignment.pools", installer=pool_defaults_install)

        from assignment.timeline import lead_timeline_rows
        from leads.timeline_extensions import lead_timeline_register

        lead_timeline_register(name="assignment.follow_ups", provider=lead_timeline_rows)
