from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The REST plumbing every app's API builds on (authentication, errors, idempotency)."""

    name = "leadcrm.api"
    label = "api"
    verbose_name = "API"

    def ready(self) -> None:
        import leadcrm.api.schema  # noqa: F401  (registers the OpenAPI auth extensions)
