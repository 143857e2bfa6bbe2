"""`make demo` and local development: debug on, embedded defaults."""

from leadcrm.settings.base import *  # noqa: F403
from leadcrm.settings.base import env

DEBUG = env.bool("DEBUG", default=True)
INSTALLED_APPS = [*INSTALLED_APPS, "demo"]  # noqa: F405 - the demo seeder: never in production
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
