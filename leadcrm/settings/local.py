"""`make demo` and local development: embedded defaults, the demo seeder.

DEBUG stays off unless asked for (`DEBUG=true`): the demo is what a new user sees first, and
Django's debug page shows settings and code to anyone who finds an error. Static files are
served by whitenoise from the app directories (WHITENOISE_USE_FINDERS) with or without it."""

from leadcrm.settings.base import *  # noqa: F403
from leadcrm.settings.base import env

DEBUG = env.bool("DEBUG", default=False)
INSTALLED_APPS = [*INSTALLED_APPS, "demo"]  # noqa: F405 - the demo seeder: never in production
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
