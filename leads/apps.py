from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leads"

    def ready(self) -> None:
        from leadcrm.tenancy.defaults import tenant_defaults_register
        from leads.cleansing_services import cleansing_policy_defaults_install

        tenant_defaults_register(name="leads.cleansing_policy", installer=cleansing_policy_defaults_install)

        from leads.dedup_services import dedup_defaults_install

        tenant_defaults_register(name="leads.dedup", installer=dedup_defaults_install)

        from leads.cleansing_selectors import POLICY_PROBE_SQL
        from leads.intake.config import intake_config_probe_register
        from leads.intake.custom_fields import REQUIRED_PROBE_SQL
        from leads.intake.dedup_config import VERSION_PROBE_SQL

        intake_config_probe_register(name="leads.cleansing", sql=POLICY_PROBE_SQL)
        intake_config_probe_register(name="leads.dedup", sql=VERSION_PROBE_SQL)
        intake_config_probe_register(name="leads.custom_required", sql=REQUIRED_PROBE_SQL)
