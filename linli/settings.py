"""One settings module, driven by the environment (`DATABASE_URL`, `LINLI_*`).

The embedded default is SQLite under `var/`; production points `DATABASE_URL` at PostgreSQL.
Nothing else differs between the two.
"""

from pathlib import Path

import dj_database_url
from celery.schedules import crontab

from linli.env import env_bool, env_int, env_list, env_str, secret_from_env_or_file

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("LINLI_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("LINLI_DEBUG", False)
SECRET_KEY = secret_from_env_or_file("LINLI_SECRET_KEY", VAR_DIR / "secret_key")
# Key for ID numbers at rest (AES-GCM) and their keyed look-up hash. Losing it makes stored
# ID numbers unreadable, so production must set it explicitly and back it up.
FIELD_ENCRYPTION_KEY = secret_from_env_or_file("LINLI_FIELD_KEY", VAR_DIR / "field_key")

ALLOWED_HOSTS = env_list("LINLI_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("LINLI_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    # Listed so that /api/v1/docs serves ninja's bundled Swagger UI, not a CDN copy.
    "ninja",
    "linli.accounts",
    "linli.grids",
    "linli.notify",
    "linli.cases",
    "linli.open311",
    "linli.volunteers",
    "linli.partners",
    "linli.supplies",
    "linli.participation",
    "linli.emergency",
    "linli.resilience",
    "linli.ops",
    "linli.web",
    "linli.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so that it sees the outcome of authentication (login throttling).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "linli.urls"
WSGI_APPLICATION = "linli.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "linli.web.context_processors.navigation",
                "linli.notify.context_processors.unread_notifications",
                "linli.emergency.context_processors.emergency",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'linli.sqlite3'}",
        conn_max_age=env_int("LINLI_DB_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while an import writes; a busy timeout instead of
    # "database is locked" when two requests write at once.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses locked-out credentials before any password check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

# Login throttling: after LINLI_LOGIN_FAILURE_LIMIT failures for one username from one
# address, that pair is locked for LINLI_LOGIN_LOCKOUT_MINUTES.
AXES_FAILURE_LIMIT = env_int("LINLI_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("LINLI_LOGIN_LOCKOUT_MINUTES", 15) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "web/locked_out.html"
AXES_VERBOSE = False

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "linli" / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Uploads (case photos) hold personal data: they live outside STATIC_ROOT and no URL maps
# MEDIA_ROOT (MEDIA_URL stays unset); each photo is served by a view that checks the case's
# scope (cases/<id>/photos/<id>/).
MEDIA_ROOT = Path(env_str("LINLI_MEDIA_ROOT", str(VAR_DIR / "media")))
FILE_UPLOAD_PERMISSIONS = 0o640
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o750
# Three photos of up to 10 MB each per request: larger files spool to a temporary file
# instead of memory. A reverse proxy in front should allow request bodies of ~35 MB.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = 10
# Map tiles: empty by default, so that nothing is fetched from outside on a closed network
# (maps then draw the grid boundaries and buildings only). E.g. an in-house tile server:
# https://tiles.example.org/{z}/{x}/{y}.png
LINLI_MAP_TILE_URL = env_str("LINLI_MAP_TILE_URL", "")
LINLI_MAP_TILE_ATTRIBUTION = env_str("LINLI_MAP_TILE_ATTRIBUTION", "")

# Cookies and headers. HttpOnly, SameSite and the security headers always apply; cookies
# are marked Secure whenever DEBUG is off (browsers accept Secure cookies from
# http://127.0.0.1 and localhost, so the embedded demo still works). LINLI_HTTPS=1 behind
# TLS adds the redirect and HSTS.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("LINLI_SESSION_HOURS", 12) * 3600
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("LINLI_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
LINLI_HTTPS = env_bool("LINLI_HTTPS", False)
if LINLI_HTTPS:
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True

# Celery: eager in-process by default; set LINLI_CELERY_BROKER_URL (e.g. redis://) to use
# real workers.
CELERY_BROKER_URL = env_str("LINLI_CELERY_BROKER_URL", "memory://")
CELERY_TASK_ALWAYS_EAGER = env_bool("LINLI_CELERY_EAGER", CELERY_BROKER_URL == "memory://")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
# With real workers, beat retries outbox messages that a broker or channel outage left
# undelivered. Every 30 s, so that the shortest back-off (LINLI_OUTBOX_BACKOFF_SECONDS) holds;
# a sweep with nothing due is one indexed query.
CELERY_BEAT_SCHEDULE = {
    "notify-retry-outbox": {"task": "notify.retry_outbox", "schedule": 30.0},
    # Overdue cases climb the grid; every 15 minutes is well inside the shortest SLA.
    "cases-escalate-overdue": {"task": "cases.escalate_overdue", "schedule": 900.0},
    # The resilience snapshot of the week, Monday 01:30 (Asia/Shanghai), for the week before.
    "resilience-weekly-snapshot": {
        "task": "resilience.weekly_snapshot",
        "schedule": crontab(hour=1, minute=30, day_of_week=1),
    },
    # During an emergency, unacknowledged tasks move on within a minute of their deadline.
    "emergency-sweep-tasks": {"task": "emergency.sweep_tasks", "schedule": 60.0},
    # Activity reminders reach the inbox about a day ahead; hourly keeps that close.
    "participation-remind-upcoming": {"task": "participation.remind_upcoming", "schedule": 3600.0},
    # Ties between residents: recomputed nightly at 02:30 (Asia/Shanghai), when nobody signs up.
    "participation-rebuild-ties": {
        "task": "participation.rebuild_ties",
        "schedule": crontab(hour=2, minute=30),
    },
}

# Notification channels (linli.notify.channels). Each stays off until its variable is set;
# its messages then wait in the outbox ("no transport configured") and go out once it is.
EMAIL_HOST = env_str("LINLI_EMAIL_HOST", "")
EMAIL_PORT = env_int("LINLI_EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("LINLI_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env_str("LINLI_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("LINLI_EMAIL_STARTTLS", False)  # STARTTLS, usually port 587
EMAIL_USE_SSL = env_bool("LINLI_EMAIL_SSL", False)  # TLS from the start, usually port 465
DEFAULT_FROM_EMAIL = env_str("LINLI_EMAIL_FROM", "linli@localhost")
# A hung mail server or gateway must not hold a worker: a timeout is a failed, retried attempt.
LINLI_NOTIFY_TIMEOUT_SECONDS = env_int("LINLI_NOTIFY_TIMEOUT_SECONDS", 5)
EMAIL_TIMEOUT = LINLI_NOTIFY_TIMEOUT_SECONDS
# WeCom (企业微信) group robot: the group's webhook address, including its key.
LINLI_WECOM_WEBHOOK_URL = env_str("LINLI_WECOM_WEBHOOK_URL", "")
# A generic SMS gateway that takes POST {"to": phone, "text": ...} as JSON.
LINLI_SMS_GATEWAY_URL = env_str("LINLI_SMS_GATEWAY_URL", "")
LINLI_SMS_GATEWAY_TOKEN = env_str("LINLI_SMS_GATEWAY_TOKEN", "")
# After a failed attempt the next waits base * 2**(attempts - 1) seconds, at most the cap.
LINLI_OUTBOX_BACKOFF_SECONDS = env_int("LINLI_OUTBOX_BACKOFF_SECONDS", 30)
LINLI_OUTBOX_BACKOFF_MAX_SECONDS = env_int("LINLI_OUTBOX_BACKOFF_MAX_SECONDS", 3600)

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if env_str("LINLI_REDIS_URL"):
    CACHES["default"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env_str("LINLI_REDIS_URL"),
    }

# Personal data: how many rows a list page shows, and the demo password.
LINLI_PAGE_SIZE = env_int("LINLI_PAGE_SIZE", 50)
LINLI_DEMO_PASSWORD = env_str("LINLI_DEMO_PASSWORD", "linli-demo")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LINLI_LOG_LEVEL", "WARNING")},
}
