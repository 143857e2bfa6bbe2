from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leads"

    def ready(self) -> None:
        from leadcrm.tenancy.defaults import tenant_defaults_register
        from leads.cleansing_services import cleansing_policy_defaults_install

        tenant_defaults_register(name="leads.cleansing_policy", installer=cleansing_policy_defaults_install)

        from leads.dedup_services import dedup_defaults_install

        tenant_defaults_register(name="leads.dedup", installer=dedup_defaults_install)
