"""Settings shared by every environment. Values come from the environment (django-environ);
per-tenant policy (scoring, dedup, assignment) lives in the database, not here."""

from pathlib import Path

import environ
from celery.schedules import crontab

from leadcrm.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = BASE_DIR / ".data"

env = environ.Env()

SECRET_KEY = env("SECRET_KEY", default="insecure-local-development-key-change-me")
DEBUG = env.bool("DEBUG", default=False)
APPEND_SLASH = False  # the API has no trailing slashes; pages are routed explicitly
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "axes",
    "csp",
    "leadcrm.tenancy",
    "leadcrm.api",
    "leadcrm.notifications",
    "leads",
    "scoring",
    "assignment",
    "capture",
    "attribution",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files are answered here, before the rest
    "leadcrm.middleware.NoStoreMiddleware",
    "leadcrm.middleware.ServiceUnavailableMiddleware",
    "leadcrm.middleware.ChunkedBodyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "leadcrm.middleware.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "leadcrm.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "leadcrm.middleware.HtmxMiddleware",
    "leadcrm.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "leadcrm.urls"
WSGI_APPLICATION = "leadcrm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "leadcrm.tenancy.context_processors.tenancy",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------
# DATABASE_URL is the *owner* connection used by migrations. Application queries run as
# DB_APP_ROLE (SET ROLE on connect), a role that owns nothing and has no BYPASSRLS, so
# row-level security holds even when the URL is a superuser's (CI, the embedded server).
DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/leadcrm")}
DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
DATABASES["default"].setdefault("OPTIONS", {})
DB_APP_ROLE = env("DB_APP_ROLE", default="leadcrm_app")
DB_RUN_AS_OWNER = env.bool("DB_RUN_AS_OWNER", default=False)
if DB_APP_ROLE and not DB_RUN_AS_OWNER:
    DATABASES["default"]["OPTIONS"]["assume_role"] = DB_APP_ROLE
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=300)
# Django's own cursors bind on the client and never prepare; this lets the few hot statements
# that ask for it (leadcrm.db.fetch_prepared) be prepared once per connection. Django's default,
# None, disables prepared statements altogether (for poolers that cannot keep them).
DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", env.int("DB_PREPARE_THRESHOLD", default=5))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache, broker ----------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "leadcrm.cache.RedisCache", "LOCATION": REDIS_URL}}
else:
    # Shared between the web and worker processes of `make demo` without any extra service.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    }

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
BROKER_FILESYSTEM_DIR = DATA_DIR / "broker"
if CELERY_BROKER_URL == "filesystem://":
    for _sub in ("out", "processed", "control"):
        (BROKER_FILESYSTEM_DIR / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_FILESYSTEM_DIR / "out"),
        "data_folder_out": str(BROKER_FILESYSTEM_DIR / "out"),
        "processed_folder": str(BROKER_FILESYSTEM_DIR / "processed"),
        "control_folder": str(BROKER_FILESYSTEM_DIR / "control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # acks_late: a task whose worker died is delivered again once this many seconds passed
    # without an ack; longer than any task runs (kombu's default is an hour).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "purge-idempotency-keys": {"task": "leadcrm.idempotency_purge", "schedule": 3600.0},
    # Scores that time changes (decaying events, the inactivity penalty), at 03:10 each night.
    "scoring-decay-nightly": {"task": "scoring.decay_nightly", "schedule": crontab(hour=3, minute=10)},
    "sla-sweep": {"task": "assignment.sla_sweep", "schedule": 60.0},
    "cap-bonuses-nightly": {"task": "assignment.cap_bonuses_recompute", "schedule": crontab(hour=2, minute=30)},
}
# Tasks queued per rescore job: that many workers share its chunks (more than are up is harmless).
SCORING_RESCORE_WORKERS = env.int("SCORING_RESCORE_WORKERS", default=2)
# Overdue leads the SLA sweep handles per transaction (assignment/sweep.py).
SLA_SWEEP_BATCH = env.int("DJANGO_SLA_SWEEP_BATCH", default=2000)

# --- auth, security -------------------------------------------------------------------------
AUTH_USER_MODEL = "auth.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "leadcrm.tenancy.auth.EmailBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "leadcrm.tenancy.auth.login_username_normalised"  # OWNER@x and owner@x share tries
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# All assets are served by the app (tenants deploy on intranets): no CDN anywhere, so the
# policy can stay 'self' with no 'unsafe-inline' script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
    }
}

# --- i18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- static ---------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every request otherwise
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "leadcrm.api.authentication.ApiKeyAuthentication",
        "leadcrm.api.authentication.CsrfSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["leadcrm.api.parsers.StrictJSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "leadcrm.api.pagination.CursorPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_METADATA_CLASS": "leadcrm.api.metadata.EndpointMetadata",
    "EXCEPTION_HANDLER": "leadcrm.api.exceptions.problem_exception_handler",
    "UNAUTHENTICATED_USER": None,
    "PAGE_SIZE": 50,
    "COERCE_DECIMAL_TO_STRING": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "LeadCRM API",
    "DESCRIPTION": "Lead intake, scoring, assignment and attribution for integrators.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": STATIC_URL + "img/favicon.svg",  # ours, not Swagger's
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "leadcrm.api.schema.strip_trailing_slashes",
    ],
    "DEFAULT_QUERY_MANAGER": "all_tenants",  # schema generation only; never evaluated
    # Fields called `kind` carry different choices in different components: name them apart.
    "ENUM_NAME_OVERRIDES": {"BlacklistKindEnum": "leads.models.BlacklistKind"},
}
# Per API key, per minute. Tenants with heavier integrations get a key-level override.
API_RATE_LIMIT_PER_MINUTE = env.int("API_RATE_LIMIT_PER_MINUTE", default=6000)
API_MAX_BODY_BYTES = 1_000_000
API_MAX_BULK_BODY_BYTES = 10_000_000
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BULK_BODY_BYTES + 1_000_000

# Every process (web, worker, gunicorn's own lines) logs ISO-8601 UTC times: see leadcrm/logs.py.
LOGGING = logging_config(level=env("LOG_LEVEL", default="INFO"), loggers={"django.server": {"level": "WARNING"}})
