"""Settings, read from the environment (and an optional `.env` file beside manage.py).

Every variable is listed, with its default, in README.md under "Configuration".
"""

from __future__ import annotations

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# `make run` writes .env for local development; ENV_FILE points elsewhere (or at /dev/null).
environ.Env.read_env(env.str("ENV_FILE", default=str(BASE_DIR / ".env")))

DEBUG = env.bool("DEBUG", default=False)

# Without one, Django refuses whatever signs (sessions, CSRF tokens) and the web entry points
# refuse to start (calltracking/serving.py); commands that sign nothing, such as `check` or
# `makemigrations`, still run, and `check --deploy` reports the missing key.
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY and DEBUG:
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

# The https origin Twilio uses to reach us (e.g. https://calls.example.com). When set, webhook
# signatures are checked against it and TwiML links are built on it, whatever proxies sit between.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="").rstrip("/")
if PUBLIC_BASE_URL:
    CSRF_TRUSTED_ORIGINS = [PUBLIC_BASE_URL]

# Behind a TLS-terminating proxy that sets X-Forwarded-Proto and X-Forwarded-Host.
if env.bool("TRUST_PROXY_HEADERS", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "tracking",
    "whisper",
    # Background jobs and the outbound webhooks they deliver.
    "django_tasks",
    "django_tasks_db",
    "jobs",
    "integrations",
    "signin",
    "attribution",
    # Qualified calls sent back to Google Ads and GA4 (after attribution, which it reads).
    "conversions",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Webhooks skip everything below: it is for browsers.
    "calltracking.middleware.TwilioWebhooksMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "calltracking.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "calltracking.urls"
WSGI_APPLICATION = "calltracking.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DB_STATEMENT_TIMEOUT_MS = env.int("DB_STATEMENT_TIMEOUT_MS", default=5000)
# The longest a webhook waits on PostgreSQL, per connect or round trip, before it answers from
# the routing cache and spools its event: well inside Twilio's 15 s.
WEBHOOK_DB_TIMEOUT = env.float("WEBHOOK_DB_TIMEOUT", default=2.0)
# After PostgreSQL failed or timed out, a process fails at once for this long before trying it
# again, so that a hung database costs one timeout, not one per request.
DB_RETRY_SECONDS = env.float("DB_RETRY_SECONDS", default=5.0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock when a transaction starts, so two webhooks of one call
    # serialise instead of failing with "database is locked" half-way through.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )
    # The call indexes' INCLUDE columns make PostgreSQL's reports index-only; SQLite simply
    # builds the index without them, which is all a development database needs.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    # No health-check query per request: a connection broken by a database restart fails its
    # request's writes, which are spooled, and is then closed and replaced.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
    # A caller waits while a webhook runs and Twilio gives up after 15 s: a database that does
    # not answer must fail fast, so the call is routed from the cache and its events spooled.
    # This backend bounds every wait on an open connection too (calltracking/postgresql).
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"]["ENGINE"] = "calltracking.postgresql"
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "connect_timeout": env.int("DB_CONNECT_TIMEOUT", default=3),
            "options": f"-c statement_timeout={DB_STATEMENT_TIMEOUT_MS}",
            # A peer that vanished (a dead host, a cut network) is noticed on an idle
            # connection within about 10 s, and data it never acknowledges within
            # DB_TCP_USER_TIMEOUT_MS, instead of the operating system's minutes.
            "keepalives": 1,
            "keepalives_idle": 5,
            "keepalives_interval": 2,
            "keepalives_count": 2,
            "tcp_user_timeout": env.int("DB_TCP_USER_TIMEOUT_MS", default=5000),
        }
    )
    # Every webhook sends the same few statements: prepared once per connection, PostgreSQL
    # skips parsing and planning them again. A pooler that cannot keep prepared statements
    # (PgBouncer before 1.21 in transaction mode) needs DB_PREPARED_STATEMENTS=false.
    if env.bool("DB_PREPARED_STATEMENTS", default=True):
        DATABASES["default"]["OPTIONS"].update(
            {"server_side_binding": True, "prepare_threshold": 5}
        )

# Routing (number → campaign → destination, whisper words) is kept here too, so that calls still
# ring the business while the database is down. The default is on local disk, shared by every
# worker and kept across restarts; CACHE_URL may point at Redis (redis://…) instead.
CACHES = {"default": env.cache("CACHE_URL", default=f"filecache://{BASE_DIR / 'var' / 'cache'}")}

# Call events the database could not take are written here, durably, and replayed later.
CALL_SPOOL_DIR = Path(env.str("CALL_SPOOL_DIR", default=str(BASE_DIR / "var" / "spool")))
# Each web process replays its spooled events in a background thread once the database is back.
CALL_SPOOL_AUTO_REPLAY = env.bool("CALL_SPOOL_AUTO_REPLAY", default=True)

# Call logs hold callers' numbers (personal data): `purge_calls` anonymises or deletes calls
# older than this many days. 0 keeps them forever.
CALL_RETENTION_DAYS = env.int("CALL_RETENTION_DAYS", default=0)

# E-mail for voicemail and missed-call notices, e.g. smtp+tls://user:password@smtp.example.com:587
# (django-environ's EMAIL_URL forms). The default prints messages to the console.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="calls@localhost")
# Seconds an SMTP server gets to answer: a notice must never hold a webhook up for long.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=5)

# Background jobs (django-tasks, the backport of Django's tasks API): written to the database in
# the transaction of the change that causes them, and worked by `manage.py run_worker`.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Outbound webhooks: seconds a receiver gets to answer, and how long a rotated-out secret still
# signs deliveries beside the new one.
WEBHOOK_TIMEOUT = env.float("WEBHOOK_TIMEOUT", default=10.0)
WEBHOOK_SECRET_OVERLAP_HOURS = env.int("WEBHOOK_SECRET_OVERLAP_HOURS", default=24)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# The business's time zone: the days and hours of the dashboard and reports, and the times the
# admin shows. (Each campaign's business hours are read on its own clock.)
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if DEBUG:
    # No collectstatic needed while developing.
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

LOGIN_URL = "admin:login"

# Admin sign-in: after this many attempts for one username from one address within the window
# (a right password starts the count again), further ones are refused until it has passed.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_FAILURE_WINDOW = env.int("LOGIN_FAILURE_WINDOW", default=15 * 60)

# Production transport security: HTTPS=true once the site is served over TLS (see README,
# "Deploying"); it redirects HTTP, sends HSTS and keeps cookies off plain HTTP.
HTTPS = env.bool("HTTPS", default=False)
SECURE_SSL_REDIRECT = HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
X_FRAME_OPTIONS = "DENY"

# Twilio
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
# Where REST API requests go instead of https://api.twilio.com (e.g. a local fake for tests or
# demos). Empty: the real Twilio.
TWILIO_API_BASE_URL = env.str("TWILIO_API_BASE_URL", default="").rstrip("/")
# Checking X-Twilio-Signature is on in every mode. Turning it off lets anyone on the internet
# write call logs; it exists only for a local tunnel you fully control.
TWILIO_VALIDATE_SIGNATURES = env.bool("TWILIO_VALIDATE_SIGNATURES", default=True)
# Agents answering in the browser (agent console): the TwiML App their Voice SDK registers
# with, and an API key to mint their access tokens (Twilio console, API keys & tokens).
TWILIO_TWIML_APP_SID = env.str("TWILIO_TWIML_APP_SID", default="")
TWILIO_API_KEY = env.str("TWILIO_API_KEY", default="")
TWILIO_API_SECRET = env.str("TWILIO_API_SECRET", default="")
# Seconds an agent's access token lives; the console renews it before it expires.
AGENT_TOKEN_TTL = env.int("AGENT_TOKEN_TTL", default=600)

# The longest a caller waits for a campaign's CRM to say who they are, in seconds.
CRM_LOOKUP_SECONDS = env.float("CRM_LOOKUP_SECONDS", default=1.5)

# Website attribution (the number-swapping script). Where live holds of pool numbers and the
# endpoint's rate-limit counters are kept: "database" (the default) or "redis" (DNI_REDIS_URL).
DNI_BACKEND = env.str("DNI_BACKEND", default="database")
if DNI_BACKEND not in ("database", "redis"):
    raise environ.ImproperlyConfigured("DNI_BACKEND must be database or redis")
DNI_REDIS_URL = env.str("DNI_REDIS_URL", default="redis://127.0.0.1:6379/0")
# Requests per minute one client (one address) may make to the number endpoint.
DNI_RATE_LIMIT = env.int("DNI_RATE_LIMIT", default=120)
# Seconds between the script's heartbeats while a page stays open.
DNI_HEARTBEAT_SECONDS = env.int("DNI_HEARTBEAT_SECONDS", default=60)

# Conversions: qualified calls sent back to Google Ads and Google Analytics 4 by background jobs
# (conversions/, README "Conversions (Google Ads, GA4)"). Each destination is on only when all
# of its required settings are set; `manage.py check` warns about a half-configured one.
# Google Ads direct upload (Data Manager API): the service account's JSON key itself (the whole
# file's text; its `token_uri` is where tokens are asked for), the Google Ads account the
# conversions go to and the conversion action's id, both digits (dashes allowed), and the
# manager account the service account signs in through, if any.
GOOGLE_ADS_SERVICE_ACCOUNT_JSON = env.str("GOOGLE_ADS_SERVICE_ACCOUNT_JSON", default="")
GOOGLE_ADS_CUSTOMER_ID = env.str("GOOGLE_ADS_CUSTOMER_ID", default="")
GOOGLE_ADS_CONVERSION_ACTION_ID = env.str("GOOGLE_ADS_CONVERSION_ACTION_ID", default="")
GOOGLE_ADS_LOGIN_CUSTOMER_ID = env.str("GOOGLE_ADS_LOGIN_CUSTOMER_ID", default="")
# The conversion action's name, as the offline-conversion CSV download writes it.
GOOGLE_ADS_CONVERSION_NAME = env.str("GOOGLE_ADS_CONVERSION_NAME", default="Qualified call")
# Where Data Manager API requests go (a local fake in tests).
GOOGLE_DATA_MANAGER_URL = env.str(
    "GOOGLE_DATA_MANAGER_URL", default="https://datamanager.googleapis.com"
).rstrip("/")
# GA4 Measurement Protocol: the web stream's measurement id (G-…) and an API secret made for it.
GA4_MEASUREMENT_ID = env.str("GA4_MEASUREMENT_ID", default="")
GA4_API_SECRET = env.str("GA4_API_SECRET", default="")
GA4_MP_URL = env.str("GA4_MP_URL", default="https://www.google-analytics.com").rstrip("/")
# Seconds Google gets to answer one upload request.
CONVERSIONS_TIMEOUT = env.float("CONVERSIONS_TIMEOUT", default=10.0)

# Region used to read phone numbers typed without a country code, e.g. "(512) 555-0100".
PHONE_DEFAULT_REGION = env.str("PHONE_DEFAULT_REGION", default="US")

# REST API (api/): tokens made in the admin, sent as "Authorization: Bearer …".
INSTALLED_APPS += [
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api",
]
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.AdminPermissions"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.TokenUserThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
# Requests per user (all of their tokens together), e.g. 600/minute, 20/second, 10000/day.
API_THROTTLE_RATE = env.str("API_THROTTLE_RATE", default="600/minute")
SPECTACULAR_SETTINGS = {
    "TITLE": "Call Tracking API",
    "DESCRIPTION": "Calls, campaigns, tracking numbers and report figures. See README, “REST API”.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The accept key and the report-spam key choose from the same keys.
    "ENUM_NAME_OVERRIDES": {"KeyEnum": "tracking.models.KEY_CHOICES"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"one_line_client_errors": {"()": "calltracking.logs.OneLineClientErrors"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["one_line_client_errors"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Django's own loggers print to the console themselves in development and would then pass
    # every line on to the root logger too: each request warning twice. The root prints them.
    "loggers": {"django": {"handlers": [], "level": "INFO", "propagate": True}},
}
