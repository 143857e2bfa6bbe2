from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "leadcrm.tenancy"
    label = "tenancy"
    verbose_name = "Tenancy"

    def ready(self) -> None:
        from leadcrm.tenancy import rls

        rls.connect_signals()
