"""pytest: real PostgreSQL (DATABASE_URL), fast password hashing, eager nothing."""

from leadcrm.settings.base import *  # noqa: F403
from leadcrm.settings.base import DATA_DIR, env

DEBUG = False
INSTALLED_APPS = [*INSTALLED_APPS, "demo"]  # noqa: F405 - tests cover the demo seeder too
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
CACHES = {
    "default": (
        {"BACKEND": "leadcrm.cache.RedisCache", "LOCATION": env("REDIS_URL")}  # as in production
        if env("REDIS_URL", default="")
        else {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(DATA_DIR / "test-cache")}
    )
}

# Test databases are created and migrated as the owner; tests/conftest.py then switches every
# connection to DB_APP_ROLE so row-level security applies to the code under test.
# A Celery worker started by a test (tests/test_worker.py) sets DB_ASSUME_APP_ROLE=1 to run as
# the app role from the start, as production workers do.
if not env.bool("DB_ASSUME_APP_ROLE", default=False):
    DATABASES["default"]["OPTIONS"].pop("assume_role", None)  # noqa: F405
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
API_RATE_LIMIT_PER_MINUTE = 100_000
