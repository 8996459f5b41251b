"""Settings of the console, read from the environment.

The defaults are the safe production ones: DEBUG off, secure cookies, HSTS, SSL redirect.
Development (the run command) sets DEBUG=1 and points the services at local or embedded servers.
"""

import base64
import hashlib
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from portal.content_security_policy import content_security_policy
from portal.env import env_bool, env_development_url, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "development-only-secret-key-not-for-production-use-0123456789abcdef"
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", [])

# Partners are served at <slug>.<PORTAL_DOMAIN>; the bare PORTAL_DOMAIN is the public host
# (landing page and the Django admin for platform ops).
PORTAL_DOMAIN = env_str("PORTAL_DOMAIN", "localhost")
PORTAL_SCHEME = env_str("PORTAL_SCHEME", "http" if DEBUG else "https")
# The port users reach the console on, when it is not the scheme's default (development: 8000).
PORTAL_PORT = env_str("PORTAL_PORT", "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [PORTAL_DOMAIN, f".{PORTAL_DOMAIN}"])
CSRF_TRUSTED_ORIGINS = env_list(
    "CSRF_TRUSTED_ORIGINS",
    [
        f"{PORTAL_SCHEME}://{PORTAL_DOMAIN}{':' + PORTAL_PORT if PORTAL_PORT else ''}",
        f"{PORTAL_SCHEME}://*.{PORTAL_DOMAIN}{':' + PORTAL_PORT if PORTAL_PORT else ''}",
    ],
)

# --- Applications -----------------------------------------------------------------------------
# Public schema: the platform (partners and their domains), cross-partner apps (reseller links,
# pools), and the platform operators' own users and sessions for the Django admin.
SHARED_APPS = [
    "django_tenants",
    "portal.partners",
    "resellers",
    "signup",
    "pools",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "portal.accounts",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "django_filters",
    "django_tables2",
    "django_countries",
    # The REST API's interactive docs (Swagger UI) come as the package's own static files (api/v1.py).
    "ninja",
    "portal.core",
    "portal.observability",
]
# Partner schemas: everything a partner owns. Users and sessions live here too, so a session of
# one partner does not exist in another partner's schema.
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "portal.accounts",
    "django.contrib.sessions",
    "portal.audit",
    "portal.authentication",
    # Second factors (portal.authentication.models explains the choice): authenticator apps, recovery codes.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "customers",
    "catalog",
    "subscriptions",
    "orders",
    "marketplace",
    "reports",
    "pool_assignments",
    "support",
    "portal.webhooks",
    "api",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]
# The demo partner's data and its `seed_demo` command drive the simulators: development and tests only, and
# the Docker image leaves both packages out.
if DEBUG:
    INSTALLED_APPS += ["demo"]

# Partner sign-up: the data centre a country/region is assigned to (ISO 3166 codes); any other country
# goes to PARTNER_DATA_CENTRE_DEFAULT. Codes are `portal.partners.choices.DataCentre`.
PARTNER_DATA_CENTRE_DEFAULT = "eu-west"
PARTNER_DATA_CENTRE_BY_COUNTRY = {
    **dict.fromkeys(("GB", "IE", "IM", "JE", "GG"), "uk-south"),
    **dict.fromkeys(("CH", "LI"), "ch-north"),
    **dict.fromkeys(("US", "CA", "MX", "BR", "AR", "CL", "CO", "PE", "UY", "PR"), "us-east"),
    **dict.fromkeys(("SG", "MY", "ID", "TH", "VN", "PH", "IN", "HK", "TW", "KR", "CN", "BD", "LK"), "ap-southeast"),
    **dict.fromkeys(("AU", "NZ", "FJ", "PG"), "au-east"),
    "JP": "jp-east",
}
# A sign-up's emailed verification link works this long (seconds).
PARTNER_SIGN_UP_VERIFY_MAX_AGE = 3 * 24 * 3600

TENANT_MODEL = "partners.Partner"
TENANT_DOMAIN_MODEL = "partners.Domain"
PUBLIC_SCHEMA_NAME = "public"
# A migrated partner schema that new partners are cloned from (see portal.partners.provisioning).
PARTNER_TEMPLATE_SCHEMA = "partner_template"
DEFAULT_NOT_FOUND_TENANT_VIEW = "portal.core.views.partner_not_found"
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["portal.accounts.backends.UsernameOrEmailBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"

MIDDLEWARE = [
    # Every log line of a request names it; its latency is measured around everything else.
    "portal.observability.context.RequestContextMiddleware",
    "portal.observability.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "portal.core.middleware.PartnerMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.observability.context.UserContextMiddleware",
    "portal.core.middleware.SessionPartnerGuardMiddleware",
    "portal.authentication.middleware.SecondFactorMiddleware",
    "portal.accounts.acting.ActingCustomerMiddleware",
    "portal.accounts.terms.TermsMiddleware",
    "portal.audit.context.AuditContextMiddleware",
    "portal.core.middleware.UserLocaleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "portal.core.middleware.HtmxMessagesMiddleware",
]

# Django's form templates, with selects written in Python (a select of the time zones is hundreds of options).
FORM_RENDERER = "portal.core.forms_renderer.ConsoleFormRenderer"

ROOT_URLCONF = "portal.urls"
PUBLIC_SCHEMA_URLCONF = "portal.urls_public"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.core.context_processors.console",
            ],
        },
    },
]

# --- Data stores --------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/console"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
# django-tenants switches search_path per request; it needs its own backend. Poolers in front of
# PostgreSQL must use session pooling: transaction pooling loses the search_path between queries.
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        # Every key is prefixed with the active schema, so partners never read each other's entries.
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "console"),
    }
}
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 12)
# Host-only cookies: a partner's session cookie is never sent to another partner's host.
SESSION_COOKIE_DOMAIN = None
CSRF_COOKIE_DOMAIN = None
SESSION_COOKIE_HTTPONLY = True

# --- Celery -------------------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "default")
# Work that takes long or must not wait has its own queue, each with its own workers (`./dev up`,
# docker-compose.yml): a sync of thousands of customers never holds up an order, a report never a sync.
# Routed by task name; a task not named here goes to the default queue.
CELERY_SYNC_QUEUE = env_str("CELERY_SYNC_QUEUE", "sync")
CELERY_ORDERS_QUEUE = env_str("CELERY_ORDERS_QUEUE", "orders")
CELERY_REPORTS_QUEUE = env_str("CELERY_REPORTS_QUEUE", "reports")
CELERY_TASK_ROUTES = {
    "marketplace.tasks.sync_account_run": {"queue": CELERY_SYNC_QUEUE},
    "orders.tasks.*": {"queue": CELERY_ORDERS_QUEUE},
    "reports.tasks.*": {"queue": CELERY_REPORTS_QUEUE},
}
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TIMEZONE = "UTC"
# Per-partner work is dispatched by one beat entry that fans out with a spread (portal.core.tasks).
CELERY_BEAT_SCHEDULE = {
    "partners-clear-expired-sessions": {
        "task": "portal.core.tasks.dispatch_to_partners",
        "schedule": 60 * 60 * 24,
        "args": ("portal.accounts.tasks.sessions_clear_expired",),
        "kwargs": {"spread_seconds": 600},
    },
}
PARTNER_DISPATCH_DEFAULT_SPREAD = 300
# Pools (public schema): expire what is due and warn 30 days ahead; record the daily snapshots.
CELERY_BEAT_SCHEDULE["pools-expire"] = {"task": "pools.tasks.pools_expire", "schedule": 60 * 60}
CELERY_BEAT_SCHEDULE["pools-snapshots"] = {"task": "pools.tasks.pool_snapshots_record", "schedule": 60 * 60 * 6}
# Marketplace sync: every minute each partner syncs the accounts whose own interval has elapsed.
CELERY_BEAT_SCHEDULE["partners-marketplace-sync"] = {
    "task": "portal.core.tasks.dispatch_to_partners",
    "schedule": 60,
    "args": ("marketplace.tasks.sync_due_accounts",),
    "kwargs": {"spread_seconds": 45},
}
# Reports: each partner's daily usage snapshot, taken every 6 hours (the day's last run is what it keeps).
CELERY_BEAT_SCHEDULE["partners-usage-snapshots"] = {
    "task": "portal.core.tasks.dispatch_to_partners",
    "schedule": 60 * 60 * 6,
    "args": ("reports.tasks.usage_snapshots_take",),
    "kwargs": {"spread_seconds": 1800},
}
# Reports: each partner's customer tenants' storage, from Microsoft Graph's usage reports (they change daily).
CELERY_BEAT_SCHEDULE["partners-storage-consumption"] = {
    "task": "portal.core.tasks.dispatch_to_partners",
    "schedule": 60 * 60 * 24,
    "args": ("reports.tasks.storage_snapshots_refresh",),
    "kwargs": {"spread_seconds": 3600},
}
# Reports: issue each partner's billing statements once its cycle has ended (a no-op when already issued).
CELERY_BEAT_SCHEDULE["partners-billing-cycles-close"] = {
    "task": "portal.core.tasks.dispatch_to_partners",
    "schedule": 60 * 60 * 6,
    "args": ("reports.tasks.billing_cycles_close",),
    "kwargs": {"spread_seconds": 1800},
}
# Subscription lifecycle: scheduled decreases at renewal, licence automation, requests following their orders.
CELERY_BEAT_SCHEDULE["partners-subscription-lifecycle"] = {
    "task": "portal.core.tasks.dispatch_to_partners",
    "schedule": 60 * 60,
    "args": ("subscriptions.tasks.lifecycle_run_due",),
    "kwargs": {"spread_seconds": 600},
}
# Marketplace: each partner's GDAP relationships read from Microsoft Graph, warned about 30, 7 and 1 days ahead.
CELERY_BEAT_SCHEDULE["partners-gdap-check"] = {
    "task": "portal.core.tasks.dispatch_to_partners",
    "schedule": 60 * 60 * 24,
    "args": ("marketplace.tasks.gdap_check",),
    "kwargs": {"spread_seconds": 1800},
}
# Marketplace: warn before a marketplace account's credentials (a 90-day refresh token) run out.
CELERY_BEAT_SCHEDULE["partners-credential-health"] = {
    "task": "portal.core.tasks.dispatch_to_partners",
    "schedule": 60 * 60 * 24,
    "args": ("marketplace.tasks.credential_health_check",),
    "kwargs": {"spread_seconds": 1800},
}
# Orders: queue again the submitted orders whose task message was lost (a worker died, a deploy dropped
# the queue); placing is idempotent per line, so a second message places nothing twice.
CELERY_BEAT_SCHEDULE["partners-orders-requeue-stalled"] = {
    "task": "portal.core.tasks.dispatch_to_partners",
    "schedule": 60 * 15,
    "args": ("orders.tasks.orders_requeue_stalled",),
    "kwargs": {"spread_seconds": 300},
}

# --- REST API (api/) -----------------------------------------------------------------------------------
# Requests per minute per token, unless the token sets its own.
API_RATE_LIMIT_PER_MINUTE = env_int("API_RATE_LIMIT_PER_MINUTE", 120)
CELERY_BEAT_SCHEDULE["partners-api-idempotency-forget"] = {
    "task": "portal.core.tasks.dispatch_to_partners",
    "schedule": 60 * 60 * 6,
    "args": ("api.tasks.idempotent_responses_forget",),
    "kwargs": {"spread_seconds": 1800},
}
# Outgoing webhooks never go to loopback, private or link-local addresses, except in development.
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = env_bool("WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", DEBUG)

# --- Operations (portal/observability) -----------------------------------------------------------
# /readyz fails when no worker has run the heartbeat for this long (beat sends it every minute).
READINESS_WORKER_MAX_AGE = env_int("READINESS_WORKER_MAX_AGE", 180)
# /metrics (public host) answers a scraper sending `Authorization: Bearer <METRICS_TOKEN>`; without a
# token it is open in development only.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
CELERY_BEAT_SCHEDULE["worker-heartbeat"] = {"task": "portal.observability.tasks.worker_heartbeat", "schedule": 60}

# --- Marketplaces (marketplace/) -----------------------------------------------------------------
# Fernet keys that encrypt marketplace account secrets at rest, comma-separated, newest first: the
# first encrypts, all decrypt; `manage.py rotate_marketplace_secrets` re-encrypts with the first.
# Required when DEBUG is off (checked when a secret is first encrypted or decrypted); development
# uses a fixed key derived from a public string, so it protects nothing.
MARKETPLACE_SECRET_KEYS = env_list("MARKETPLACE_SECRET_KEYS", [])
if not MARKETPLACE_SECRET_KEYS and DEBUG:
    MARKETPLACE_SECRET_KEYS = [
        base64.urlsafe_b64encode(hashlib.sha256(b"development-only marketplace secret key").digest()).decode()
    ]
# Simulators stand in for the marketplaces and Microsoft in development and demos only. Decided when the
# settings load (the test runner turns DEBUG off while it runs): with DEBUG off every `*_SIMULATOR_URL` is
# ignored with a warning, so decrypted marketplace credentials never go to a server the environment names.
SIMULATORS_ENABLED = DEBUG
# A marketplace simulator to talk to instead of the real marketplace, one per marketplace slug.
ALSO_SIMULATOR_URL = env_development_url("ALSO_SIMULATOR_URL", debug=DEBUG)
ALEF_SIMULATOR_URL = env_development_url("ALEF_SIMULATOR_URL", debug=DEBUG)
CLOUDMORE_SIMULATOR_URL = env_development_url("CLOUDMORE_SIMULATOR_URL", debug=DEBUG)
PARTNER_CENTER_SIMULATOR_URL = env_development_url("PARTNER_CENTER_SIMULATOR_URL", debug=DEBUG)

# --- Microsoft identity (portal.microsoft) --------------------------------------------------------
# Production: the console's multi-tenant Entra app, required when DEBUG is off. Development and demos: the
# identity simulator (`python -m simulators.identity`, whose app these defaults are), reached through
# MICROSOFT_SIMULATOR_URL.
_SIMULATOR_APP = ("console-dev-client", "console-dev-secret")
MICROSOFT_CLIENT_ID = env_str("MICROSOFT_CLIENT_ID", "")
MICROSOFT_CLIENT_SECRET = env_str("MICROSOFT_CLIENT_SECRET", "")
if not DEBUG and (
    not MICROSOFT_CLIENT_ID
    or not MICROSOFT_CLIENT_SECRET
    or MICROSOFT_CLIENT_ID in _SIMULATOR_APP
    or MICROSOFT_CLIENT_SECRET in _SIMULATOR_APP
):
    raise ImproperlyConfigured(
        "MICROSOFT_CLIENT_ID and MICROSOFT_CLIENT_SECRET must be set to the console's Entra app registration "
        "when DEBUG is off (the simulator's development app is refused)."
    )
MICROSOFT_CLIENT_ID = MICROSOFT_CLIENT_ID or _SIMULATOR_APP[0]
MICROSOFT_CLIENT_SECRET = MICROSOFT_CLIENT_SECRET or _SIMULATOR_APP[1]
MICROSOFT_AUTHORITY = env_str("MICROSOFT_AUTHORITY", "https://login.microsoftonline.com")
# Microsoft Graph (usage reports); with the identity simulator, its /graph endpoints.
MICROSOFT_GRAPH_URL = env_str("MICROSOFT_GRAPH_URL", "https://graph.microsoft.com")
MICROSOFT_SIMULATOR_URL = env_development_url("MICROSOFT_SIMULATOR_URL", debug=DEBUG)

# --- Email --------------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(BASE_DIR / ".dev" / "mail"))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", f"console@{PORTAL_DOMAIN}")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Security -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SECURE = not DEBUG
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", SECURE)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", SECURE)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", SECURE)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if SECURE else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", SECURE)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", SECURE)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp) on every host, in every setting: see portal/content_security_policy.py.
# CSP_FORM_TARGETS: more identity-provider URLs that a form's redirect may reach (a simulator's public URL).
CONTENT_SECURITY_POLICY = content_security_policy(
    public_origin=f"{PORTAL_SCHEME}://{PORTAL_DOMAIN}{':' + PORTAL_PORT if PORTAL_PORT else ''}",
    form_targets=[MICROSOFT_AUTHORITY, MICROSOFT_SIMULATOR_URL, *env_list("CSP_FORM_TARGETS", [])],
)
# Behind a TLS-terminating load balancer (docker-compose / production), trust its header.
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SILENCED_SYSTEM_CHECKS = env_list("SILENCED_SYSTEM_CHECKS", [])
# Second factors: authenticator apps show the partner's name for its console; a wrong code
# makes the next try wait 1, 2, 4, ... seconds (django-otp), on top of the account lock below.


def _authenticator_issuer(device) -> str:
    from django.db import connection

    return getattr(getattr(connection, "tenant", None), "name", "") or "MSP Console"


OTP_TOTP_ISSUER = _authenticator_issuer
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
# Sign-in throttling (portal.authentication.services_throttle): failures before a lock, per account
# and per address within SIGN_IN_FAILURE_WINDOW seconds; the first lock lasts SIGN_IN_LOCK_SECONDS,
# each next one twice as long, up to SIGN_IN_LOCK_MAX_SECONDS.
SIGN_IN_ACCOUNT_FAILURES = env_int("SIGN_IN_ACCOUNT_FAILURES", 5)
SIGN_IN_ADDRESS_FAILURES = env_int("SIGN_IN_ADDRESS_FAILURES", 20)
SIGN_IN_FAILURE_WINDOW = env_int("SIGN_IN_FAILURE_WINDOW", 15 * 60)
SIGN_IN_LOCK_SECONDS = env_int("SIGN_IN_LOCK_SECONDS", 60)
SIGN_IN_LOCK_MAX_SECONDS = env_int("SIGN_IN_LOCK_MAX_SECONDS", 60 * 60)
# Password reset emails: requests per email address and per client address within the window.
PASSWORD_RESET_REQUESTS = env_int("PASSWORD_RESET_REQUESTS", 3)
PASSWORD_RESET_ADDRESS_REQUESTS = env_int("PASSWORD_RESET_ADDRESS_REQUESTS", 10)
# Customer registrations on a partner's public form, per email and per address in the same window.
CUSTOMER_REGISTRATION_REQUESTS = env_int("CUSTOMER_REGISTRATION_REQUESTS", 3)
CUSTOMER_REGISTRATION_ADDRESS_REQUESTS = env_int("CUSTOMER_REGISTRATION_ADDRESS_REQUESTS", 10)
CUSTOMER_REGISTRATION_VERIFY_MAX_AGE = 3 * 24 * 3600

# --- Internationalisation -----------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("de", _("German")), ("fr", _("French")), ("ja", _("Japanese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["portal.formats"]
# The switcher's choice on the public pages (sign-in, catalog), kept for a year.
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

# --- Static files -------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# One JSON object per line in production (LOG_FORMAT=json, the default when DEBUG is off), plain text in
# development; either way each line names its request id, partner schema and user (portal.observability).
LOG_FORMAT = env_str("LOG_FORMAT", "plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "portal.observability.context.ContextFilter"}},
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(partner_schema)s %(user_id)s] %(message)s"
        },
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(partner_schema)s %(user_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # httpx logs every request at INFO; marketplace.providers.http already logs each call with its timing.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "httpx": {"level": "WARNING"}},
}
