"""Settings for every environment, configured by environment variables.

Embedded default (no variables set): SQLite, local file storage and Celery over kombu's filesystem
transport, all under ``var/``. Production: DATABASE_URL, REDIS_URL/CELERY_BROKER_URL and S3 storage
variables (see README).
"""

from __future__ import annotations

import os
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

VAR_DIR = Path(env("PORTAL_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)  # the embedded default keeps its database, files and queue here

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# The embedded default runs on a developer's machine; production must set its own key.
SECRET_KEY = env("DJANGO_SECRET_KEY", default="embedded-default-insecure-key-change-me")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "csp",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI files served from here: no CDN (strict CSP)
    "portal",
    "submissions",
    "reporting",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "portal.security.IdleSessionMiddleware",
    "portal.security.TwoFactorRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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
                "portal.context_processors.portal",
            ],
        },
    }
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process and the worker share the file: wait for locks instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 30
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    DATABASES["default"]["OPTIONS"]["init_command"] = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    # A file, not memory, so that a real worker process can share the test database.
    # One file per test run so that concurrent runs on one machine do not share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-portal-{os.getpid()}.sqlite3")}
else:
    # Its own test database per run, so concurrent runs against one server never drop each other's.
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "portal.User"
# django-axes first: it refuses a locked-out username before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "portal.security.CharacterClassValidator"},
]

# Two-factor sign-in (django-otp): every user signs in with a password and then a TOTP code (or one of
# their recovery codes); a user without a device enrols on first sign-in. PORTAL_REQUIRE_2FA=false turns
# the second step off (never in production; only for a throwaway local copy).
PORTAL_REQUIRE_2FA = env.bool("PORTAL_REQUIRE_2FA", default=True)
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="IAPT submission portal")
OTP_TOTP_THROTTLE_FACTOR = 1  # seconds, doubled after each wrong code
RECOVERY_CODE_COUNT = 10

# Lockout (django-axes): AXES_FAILURE_LIMIT wrong passwords for one username lock it for AXES_COOLOFF_TIME
# hours; an administrator can unlock sooner (`manage.py axes_reset_username USER`).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
# Posts of the public access-request form per client address and hour.
ACCESS_REQUEST_LIMIT = env.int("ACCESS_REQUEST_LIMIT", default=60)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
# By user name only: the staff of an NHS organisation often share one address (HSCN/NAT), so locking an
# address would lock a whole trust out; spraying one password over many names still needs the second factor.
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_IPWARE_PROXY_COUNT = env.int("AXES_PROXY_COUNT", default=0)
AXES_VERBOSE = False

# Accounts unused for this many days are deactivated; the warning e-mail goes this many days before.
ACCOUNT_INACTIVE_DAYS = env.int("ACCOUNT_INACTIVE_DAYS", default=180)
ACCOUNT_INACTIVE_WARNING_DAYS = env.int("ACCOUNT_INACTIVE_WARNING_DAYS", default=14)

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns at start-up otherwise
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env("PORTAL_MEDIA_ROOT", default=str(VAR_DIR / "media")))

# Storage: local files by default; S3-compatible when a bucket is configured.
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env("AWS_S3_ENDPOINT_URL", default=None),
            "region_name": env("AWS_S3_REGION_NAME", default=None),
            "default_acl": None,
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": None},
    }
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Uploads: every upload streams to a temporary file while it is hashed and size-checked
# (portal.uploads); nothing is held whole in memory.
FILE_UPLOAD_HANDLERS = ["submissions.uploads.HashingUploadHandler"]
FILE_UPLOAD_MAX_MEMORY_SIZE = 0
FILE_UPLOAD_TEMP_DIR = env("FILE_UPLOAD_TEMP_DIR", default=None)
if FILE_UPLOAD_TEMP_DIR:
    Path(FILE_UPLOAD_TEMP_DIR).mkdir(parents=True, exist_ok=True)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
MAX_UPLOAD_BYTES = env.int("MAX_UPLOAD_BYTES", default=512 * 1024 * 1024)
MAX_UNZIPPED_BYTES = env.int("MAX_UNZIPPED_BYTES", default=2 * 1024 * 1024 * 1024)

# Celery. REDIS_URL is the usual name on hosting platforms; CELERY_BROKER_URL wins if both are set.
_broker_default = "filesystem://"
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=env("REDIS_URL", default=_broker_default))
BROKER_DIR = VAR_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    for _sub in ("queue", "processed", "control"):
        (BROKER_DIR / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    # A SIGKILLed worker cannot give its unacknowledged message back: Redis redelivers it only after
    # visibility_timeout. The sweeper recovers such a submission much sooner (heartbeat, below); the late
    # redelivery is then dropped by submission_start. Socket timeouts bound a publish to a broker that
    # does not answer (docs/decisions.md, "Reliability").
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3 * 3600),
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
    }
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default="celery")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Workers and beat wait for the broker however long it is away (Celery's default gives up after 100
# attempts, about 45 minutes, and the process exits); uploads meanwhile wait in the outbox.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None

# Seconds a submission may stay non-final before the sweeper intervenes.
SUBMISSION_STUCK_AFTER = env.int("SUBMISSION_STUCK_AFTER", default=3600)
# A worker processing a submission writes its heartbeat every SUBMISSION_HEARTBEAT_SECONDS; a VALIDATING
# submission whose heartbeat is older than SUBMISSION_LOST_AFTER has lost its worker (killed, machine
# gone) and the sweeper re-queues it without waiting for SUBMISSION_STUCK_AFTER. Keep it above the
# task's transient-error retry delays (5, 10, 20 s), or the sweeper competes with those retries.
SUBMISSION_HEARTBEAT_SECONDS = env.float("SUBMISSION_HEARTBEAT_SECONDS", default=15.0)
SUBMISSION_LOST_AFTER = env.int("SUBMISSION_LOST_AFTER", default=120)
# Beat periods of the sweeper and of the outbox dispatcher (RECEIVED submissions never published).
SUBMISSION_SWEEP_EVERY = env.float("SUBMISSION_SWEEP_EVERY", default=60.0)
SUBMISSION_DISPATCH_EVERY = env.float("SUBMISSION_DISPATCH_EVERY", default=30.0)
# Publishing a task is tried this many times (0.2 s apart) before the upload is left to the dispatcher.
CELERY_PUBLISH_MAX_RETRIES = env.int("CELERY_PUBLISH_MAX_RETRIES", default=2)

# Security defaults that are safe everywhere; HTTPS-only cookies when served over TLS.
_secure = env.bool("DJANGO_SECURE", default=False)
SESSION_COOKIE_SECURE = _secure
CSRF_COOKIE_SECURE = _secure
SECURE_SSL_REDIRECT = _secure
SECURE_HSTS_SECONDS = 31536000 if _secure else 0
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if _secure else None
SECURE_HSTS_INCLUDE_SUBDOMAINS = _secure
SECURE_HSTS_PRELOAD = _secure
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
# A session ends after SESSION_IDLE_SECONDS without a request (portal.security.IdleSessionMiddleware),
# after SESSION_COOKIE_AGE whatever happens, and when the browser closes.
SESSION_IDLE_SECONDS = env.int("SESSION_IDLE_SECONDS", default=30 * 60)
SESSION_COOKIE_AGE = 10 * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Content-Security-Policy (django-csp): nothing inline, nothing from other hosts. The QR code of the
# two-factor enrolment is a data: image; the Swagger UI page keeps the same policy (see decisions).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))  # for the filebased backend
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="iapt-portal@localhost")
PORTAL_BASE_URL = env("PORTAL_BASE_URL", default="http://127.0.0.1:8000")

# The API (/api/v1/): per-organisation tokens (Authorization: Bearer) and, for signed-in users and the
# docs page, the session. JSON only. Rates are per token (per user for the session).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "portal.authentication.BearerTokenAuthentication",
        "portal.authentication.VerifiedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser", "rest_framework.parsers.MultiPartParser"],
    "EXCEPTION_HANDLER": "portal.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {
        "api": env("API_RATE", default="1200/hour"),
        "api_upload": env("API_UPLOAD_RATE", default="60/hour"),
    },
}
# Seconds between writes of an API token's last_used_at.
API_TOKEN_TOUCH_SECONDS = env.int("API_TOKEN_TOUCH_SECONDS", default=300)
# Throttle counters live in the cache: set CACHE_URL (e.g. redis://host:6379/1) when several web
# processes serve the API, or each process counts on its own.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
SPECTACULAR_SETTINGS = {
    "TITLE": "IAPT submission portal API",
    "DESCRIPTION": (
        "Submit IAPT v1.5 IDB files and download validation reports, data quality summaries and extracts "
        "on behalf of an organisation. Authenticate with an API token from /account/tokens/ "
        "(`Authorization: Bearer iapt_…`). Errors are always `{message, code, details}`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

# Key for keyed pseudonyms in extracts; production must set its own (never the default).
PSEUDONYM_KEY = env("PSEUDONYM_KEY", default=SECRET_KEY)

CELERY_BEAT_SCHEDULE = {
    "sweep-stuck-submissions": {
        "task": "submissions.tasks.sweep_stuck_submissions",
        "schedule": SUBMISSION_SWEEP_EVERY,
    },
    "dispatch-unqueued-submissions": {
        "task": "submissions.tasks.dispatch_unqueued_submissions",
        "schedule": SUBMISSION_DISPATCH_EVERY,
    },
    "close-due-windows": {"task": "submissions.tasks.close_due_windows", "schedule": 60.0},
    "timetable-emails": {"task": "submissions.tasks.send_timetable_emails", "schedule": 900.0},
    "deactivate-inactive-accounts": {
        "task": "portal.tasks.deactivate_inactive_accounts",
        "schedule": 6 * 3600.0,
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = env(
    "CELERY_BEAT_SCHEDULE_FILENAME", default=str(VAR_DIR / "celerybeat-schedule")
)
