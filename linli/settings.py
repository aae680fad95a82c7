"""One settings module, driven by the environment (`DATABASE_URL`, `LINLI_*`).

The embedded default is SQLite under `var/`; production points `DATABASE_URL` at PostgreSQL.
Nothing else differs between the two.
"""

from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from linli.env import env_bool, env_int, env_list, env_str, env_url, secret_from_env_or_file
from linli.ops.logging import log_format_from_environment, logging_config
from linli.ops.private import tighten

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("LINLI_VAR_DIR", str(BASE_DIR / "var")))
# Keys, uploads and the embedded database: private to the service user when first made.
VAR_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
# One made by an older version (or by hand) loses what other users could do with it.
tighten(VAR_DIR)

DEBUG = env_bool("LINLI_DEBUG", False)
SECRET_KEY_FILE = VAR_DIR / "secret_key"
# 48 random bytes, 64 characters: Django's deploy check (security.W009) wants at least 50.
SECRET_KEY = secret_from_env_or_file("LINLI_SECRET_KEY", SECRET_KEY_FILE, nbytes=48)
# Key for ID numbers at rest (AES-GCM) and their keyed look-up hash. Losing it makes stored
# ID numbers unreadable, so production must set it explicitly and back it up. The database
# keeps the key's fingerprint (never the key): the platform refuses to start with a key that
# cannot read the ID numbers stored (linli.accounts.fieldkey).
FIELD_KEY_FILE = VAR_DIR / "field_key"
# Recorded when generated: `linli restore` may replace a generated key that protects nothing.
FIELD_ENCRYPTION_KEY = secret_from_env_or_file(
    "LINLI_FIELD_KEY", FIELD_KEY_FILE, record_generated=True
)
# `linli backup` writes its archives here (keep a copy on another machine).
LINLI_BACKUP_DIR = Path(env_str("LINLI_BACKUP_DIR", str(VAR_DIR / "backups")))

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
    # Two-factor sign-in for staff (linli.accounts.two_factor): authenticator apps (TOTP)
    # and single-use recovery codes.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # Listed so that /api/v1/docs serves ninja's bundled Swagger UI, not a CDN copy.
    "ninja",
    "linli.accounts",
    "linli.grids",
    "linli.idempotency",
    "linli.notify",
    "linli.cases",
    "linli.open311",
    "linli.registration",
    "linli.invitations",
    "linli.wechat",
    "linli.signin",
    "linli.logins",
    "linli.volunteers",
    "linli.partners",
    "linli.supplies",
    "linli.participation",
    "linli.emergency",
    "linli.resilience",
    "linli.privacy",
    "linli.public",
    "linli.inbound",
    "linli.ops",
    "linli.web",
    "linli.demo",
]

MIDDLEWARE = [
    # First: the request id, one log line and the metrics for every answer, redirects and
    # static files included (linli.ops.middleware).
    "linli.ops.middleware.RequestObservationMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Outside the session, CSRF and locale middleware: sees the cookies they set.
    "linli.web.cookies.SecureCookiesOverHttpsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Content-Security-Policy on every answer, no-store on personal data: outside the
    # session middleware, so that it sees the session cookie a sign-in sets.
    "linli.ops.security_headers.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Marks a session verified by a second factor; then staff who need one and have not
    # entered it reach only the two-factor pages (linli.accounts.two_factor).
    "django_otp.middleware.OTPMiddleware",
    "linli.accounts.two_factor.TwoFactorMiddleware",
    # Then a signed-in person who has not accepted the current privacy notice reaches only
    # the notice (linli.privacy.middleware).
    "linli.privacy.middleware.PrivacyNoticeMiddleware",
    # Then a person who signed in with a temporary password (given by their secretary) sets
    # their own before anything else (linli.logins.middleware).
    "linli.logins.middleware.TemporaryPasswordMiddleware",
    # NUL in a JSON text: a 422 naming the field before any handler (linli.api).
    "linli.api.NulRefusalMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A service's refusal that no page caught: the 403, 409 or 400 page (linli.errors).
    "linli.web.errors.DomainRefusalMiddleware",
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
        # A kept connection is checked before a request reuses it: after a PostgreSQL restart
        # the next request reconnects instead of answering 500 until CONN_MAX_AGE runs out.
        conn_health_checks=True,
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
    # Everyone's personal data: the file is made private to the service user before SQLite
    # creates it (SQLite gives its -wal and -shm files the database file's mode).
    _database_file = Path(DATABASES["default"]["NAME"])
    if _database_file.is_absolute() and _database_file.parent.is_dir():
        if not _database_file.exists():
            _database_file.touch(mode=0o600)
        for _path in (_database_file, Path(f"{_database_file}-wal"), Path(f"{_database_file}-shm")):
            tighten(_path)

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
    # Not a rule: revokes the account's API tokens whenever its password changes.
    {"NAME": "linli.accounts.passwords.RevokeApiTokensOnPasswordChange"},
    # Not a rule: a password set by any way (a reset by phone code, the admin) ends the
    # temporary password a secretary gave (linli.logins).
    {"NAME": "linli.logins.passwords.ForgetTemporaryPasswordOnChange"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

# API bearer tokens answer for this many days after they are issued (linli.accounts).
LINLI_API_TOKEN_DAYS = env_int("LINLI_API_TOKEN_DAYS", 30)

# Full phone and ID numbers (linli.accounts.reveals): each person sees at most
# LINLI_REVEAL_DAILY_QUOTA a day (the count restarts at midnight, Asia/Shanghai), and their
# community's secretary is told once a day when they pass LINLI_REVEAL_ALERT_AT.
LINLI_REVEAL_DAILY_QUOTA = env_int("LINLI_REVEAL_DAILY_QUOTA", 30)
LINLI_REVEAL_ALERT_AT = env_int("LINLI_REVEAL_ALERT_AT", 20)

# Service hours of one claim above this many (linli.partners) wait, after the beneficiary
# confirms, for staff whose post covers the need to approve them before they are credited.
LINLI_HOURS_APPROVAL_ABOVE = env_int("LINLI_HOURS_APPROVAL_ABOVE", 4)
# An open need nobody claimed for this many days is announced to the staff who keep the
# lists over its area, once each such period (the daily job partners-need-waiting).
LINLI_NEED_WAITING_DAYS = env_int("LINLI_NEED_WAITING_DAYS", 7)
if LINLI_NEED_WAITING_DAYS < 1:
    raise ImproperlyConfigured("LINLI_NEED_WAITING_DAYS must be at least 1")

# Two-factor sign-in (linli.accounts.two_factor): whoever may reveal, export or import
# (street administrators, secretaries, micro-grid leads, superusers) enters a code from an
# authenticator app after their password, on the web and for an API token. On unless debug
# mode is on; `linli check --deploy` warns when it is off (linli.W013).
LINLI_STAFF_TWO_FACTOR = env_bool("LINLI_STAFF_TWO_FACTOR", not DEBUG)
# The name the authenticator app shows beside the account.
OTP_TOTP_ISSUER = env_str("LINLI_TWO_FACTOR_ISSUER", "邻里 Linli")
# Wrong codes wait 1, 2, 4, 8 … seconds between attempts (django-otp's throttle).
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
# The admin never shows an authenticator's secret or recovery codes.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Login throttling: after LINLI_LOGIN_FAILURE_LIMIT failures for one username from one
# address, that pair is locked for LINLI_LOGIN_LOCKOUT_MINUTES.
AXES_FAILURE_LIMIT = env_int("LINLI_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("LINLI_LOGIN_LOCKOUT_MINUTES", 15) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Password spraying: an address whose failures over all usernames reach this many within the
# cool-off window is locked for every username (linli.accounts.throttle).
LINLI_LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LINLI_LOGIN_ADDRESS_FAILURE_LIMIT", 30)
AXES_HANDLER = "linli.accounts.throttle.LinliAxesHandler"
# The client's address, X-Forwarded-For only behind LINLI_TRUSTED_PROXY (accounts.addresses).
AXES_CLIENT_IP_CALLABLE = "linli.accounts.addresses.client_address"
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
    # Uploads are written whole under a temporary name, then renamed, private to the service.
    "default": {"BACKEND": "linli.storage.PrivateFileSystemStorage"},
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
# A photo's size is read from its header before it is decoded: over this many pixels it is
# refused (a small PNG can unpack to gigabytes). 24 megapixels: any phone camera's photo.
LINLI_UPLOAD_MAX_PIXELS = env_int("LINLI_UPLOAD_MAX_PIXELS", 24_000_000)
# Photos one user may send in a clock hour (counted in the shared cache), good or refused.
LINLI_UPLOADS_PER_HOUR = env_int("LINLI_UPLOADS_PER_HOUR", 60)
# Registry imports through the web (linli.grids.importing.limits): an upload over
# LINLI_IMPORT_MAX_FILE_BYTES, an .xlsx unpacking to more than
# LINLI_IMPORT_MAX_UNCOMPRESSED_BYTES, a sheet over LINLI_IMPORT_MAX_ROWS data rows or a cell
# over LINLI_IMPORT_MAX_CELL_CHARS characters is refused before it is parsed; from
# LINLI_IMPORT_BACKGROUND_ROWS rows on, the import runs in `linli worker` with a progress page.
# The command line (`linli import`) caps no rows.
LINLI_IMPORT_MAX_FILE_BYTES = env_int("LINLI_IMPORT_MAX_FILE_BYTES", 20 * 1024 * 1024)
LINLI_IMPORT_MAX_UNCOMPRESSED_BYTES = env_int(
    "LINLI_IMPORT_MAX_UNCOMPRESSED_BYTES", 50 * 1024 * 1024
)
LINLI_IMPORT_MAX_ROWS = env_int("LINLI_IMPORT_MAX_ROWS", 20_000)
LINLI_IMPORT_MAX_CELL_CHARS = env_int("LINLI_IMPORT_MAX_CELL_CHARS", 2_000)
LINLI_IMPORT_BACKGROUND_ROWS = env_int("LINLI_IMPORT_BACKGROUND_ROWS", 2_000)
# Map tiles: empty by default, so that nothing is fetched from outside on a closed network
# (maps then draw the grid boundaries and buildings only). E.g. an in-house tile server:
# https://tiles.example.org/{z}/{x}/{y}.png
LINLI_MAP_TILE_URL = env_str("LINLI_MAP_TILE_URL", "")
LINLI_MAP_TILE_ATTRIBUTION = env_str("LINLI_MAP_TILE_ATTRIBUTION", "")

# Cookies and headers. HttpOnly, SameSite and the security headers always apply.
# LINLI_HTTPS=1 (served over TLS) marks the session, CSRF and language cookies Secure and adds
# the redirect to https and HSTS. Off (the default), a trial over plain http from another
# machine on the office LAN can log in: a browser drops a Secure cookie set by an http page
# (localhost excepted), and every form would then fail its CSRF check. A request that did
# arrive over https still gets Secure cookies (linli.web.cookies).
LINLI_HTTPS = env_bool("LINLI_HTTPS", False)
# A reverse proxy in front that sets X-Forwarded-Proto (overwriting any a client sent): only
# then may Django believe the header about which requests came over https.
LINLI_TRUSTED_PROXY = env_bool("LINLI_TRUSTED_PROXY", LINLI_HTTPS)
# Behind it, the client's address is the rightmost of X-Forwarded-For (the one the proxy
# appended); further proxies of ours in a chain (e.g. a load balancer) are listed here and
# skipped from the right (linli.accounts.addresses).
LINLI_TRUSTED_PROXY_ADDRESSES = env_list("LINLI_TRUSTED_PROXY_ADDRESSES", [])
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("LINLI_SESSION_HOURS", 12) * 3600
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("LINLI_SECURE_COOKIES", LINLI_HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if LINLI_TRUSTED_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if LINLI_HTTPS:
    SECURE_SSL_REDIRECT = True
    # A monitor or load balancer on this machine asks gunicorn over plain http: a redirect
    # to https would fail its check (or send it to a certificate for another name). They
    # hold no cookies or personal data, and /metrics keeps its own rule (local or token).
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# Django's deployment checks that do not apply (`linli check --deploy`, linli/ops/checks.py):
# - security.W018 (DEBUG on): linli.E001 reports it as an error, naming LINLI_DEBUG.
# - security.W021 (no HSTS preload): the preload list binds the whole domain and every
#   subdomain for months, a decision for whoever runs the domain (often the district's),
#   not for one platform on it.
SILENCED_SYSTEM_CHECKS = ["security.W018", "security.W021"]
# A refused form says in plain words what happened (the page was open too long, cookies
# blocked) in the site's layout.
CSRF_FAILURE_VIEW = "linli.web.errors.csrf_failure"

# Celery runs background tasks (`.delay()`) in `linli worker`, never inside a request. The
# embedded default's broker is a folder of files under var/broker (linli.ops.jobs_broker:
# nothing to install, shared by every process on the machine); production sets
# LINLI_CELERY_BROKER_URL=redis://…. `memory://` (or LINLI_CELERY_EAGER=1) runs tasks inline,
# as the tests do.
CELERY_BROKER_URL = env_str("LINLI_CELERY_BROKER_URL", "linli-files://")
CELERY_TASK_ALWAYS_EAGER = env_bool("LINLI_CELERY_EAGER", CELERY_BROKER_URL == "memory://")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Every call to Redis (broker and cache) gives up after this many seconds.
LINLI_REDIS_TIMEOUT_SECONDS = env_int("LINLI_REDIS_TIMEOUT_SECONDS", 1)
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # A hung Redis must not hold a request: connecting and each command give up after
    # LINLI_REDIS_TIMEOUT_SECONDS (without them a send waited for ever). The web's sends are
    # not retried either (linli.notify.tasks.deliver_outbox_later): what they carry waits in
    # the outbox table for the sweep.
    CELERY_BROKER_CONNECTION_TIMEOUT = LINLI_REDIS_TIMEOUT_SECONDS
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_connect_timeout": LINLI_REDIS_TIMEOUT_SECONDS,
        "socket_timeout": LINLI_REDIS_TIMEOUT_SECONDS,
    }
# The periodic jobs, run by `linli scheduler` (beside `linli serve`, or on its own in
# production; never `celery beat`, which knows no lock): name → the Celery task and its
# schedule (seconds, a timedelta or a crontab in Asia/Shanghai). State, history and alerts
# are on the jobs page (/ops/jobs/, linli.ops.scheduler).
# The outbox sweep retries messages that a broker or channel outage left undelivered. Every
# 30 s, so that the shortest back-off (LINLI_OUTBOX_BACKOFF_SECONDS) holds; a sweep with
# nothing due is one indexed query.
LINLI_JOBS = {
    "notify-retry-outbox": {"task": "notify.retry_outbox", "schedule": 30.0},
    # People who chose a daily digest get the day's messages in one, at 19:00 (Asia/Shanghai).
    "notify-send-digests": {
        "task": "notify.send_digests",
        "schedule": crontab(hour=19, minute=0),
    },
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
    # Needs unclaimed longer than LINLI_NEED_WAITING_DAYS, told to the list keepers at 09:00.
    "partners-need-waiting": {
        "task": "partners.notify_waiting_needs",
        "schedule": crontab(hour=9, minute=0),
    },
    # Stored answers to Idempotency-Key writes expire after LINLI_IDEMPOTENCY_HOURS.
    "idempotency-purge-expired": {"task": "idempotency.purge_expired", "schedule": 3600.0},
    # What is past its retention period is anonymised nightly at 03:30 (linli.privacy).
    "privacy-retention": {"task": "privacy.retention_run", "schedule": crontab(hour=3, minute=30)},
    # Sign-in codes and reset requests are kept a day for the limits, then deleted.
    "signin-purge-expired": {"task": "signin.purge_expired", "schedule": 3600.0},
}
# Retention (linli.privacy.retention): how long personal details are kept before the
# nightly run anonymises them; 0 turns a rule off. Aggregates and the audit trail stay.
LINLI_RETENTION_DEPARTED_DAYS = env_int("LINLI_RETENTION_DEPARTED_DAYS", 180)
LINLI_RETENTION_CASE_REPORTER_YEARS = env_int("LINLI_RETENTION_CASE_REPORTER_YEARS", 3)
LINLI_RETENTION_VISIT_FINDING_YEARS = env_int("LINLI_RETENTION_VISIT_FINDING_YEARS", 3)
LINLI_RETENTION_HELP_REQUEST_YEARS = env_int("LINLI_RETENTION_HELP_REQUEST_YEARS", 3)
# The privacy notice (linli/privacy/templates/privacy/notice/<version>.html) every person
# accepts at their first sign-in, and again whenever the version changes. Off only in tests.
LINLI_PRIVACY_NOTICE_VERSION = env_str("LINLI_PRIVACY_NOTICE_VERSION", "2026-12")
LINLI_PRIVACY_NOTICE_REQUIRED = env_bool("LINLI_PRIVACY_NOTICE_REQUIRED", True)

# The scheduler wakes at least this often (heartbeat, lease renewal); it counts as stopped
# after three ticks without one. It runs at most LINLI_SCHEDULER_THREADS jobs at once; a
# job's lease lasts LINLI_JOB_LEASE_SECONDS unless renewed (a dead scheduler's jobs wait
# that long before another takes them).
LINLI_SCHEDULER_TICK_SECONDS = env_int("LINLI_SCHEDULER_TICK_SECONDS", 10)
LINLI_SCHEDULER_THREADS = env_int("LINLI_SCHEDULER_THREADS", 4)
LINLI_JOB_LEASE_SECONDS = env_int("LINLI_JOB_LEASE_SECONDS", 120)

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
LINLI_WECOM_WEBHOOK_URL = env_url("LINLI_WECOM_WEBHOOK_URL")
# Where residents reach this site from outside (SMS, e-mail, WeChat, QR posters and
# letters): links in messages and printed codes are made from it. The demo's address by
# default; set it to the public address in production.
LINLI_SITE_URL = env_url("LINLI_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# A generic SMS gateway that takes POST {"to": phone, "text": ...} as JSON.
LINLI_SMS_GATEWAY_URL = env_url("LINLI_SMS_GATEWAY_URL")
LINLI_SMS_GATEWAY_TOKEN = env_str("LINLI_SMS_GATEWAY_TOKEN", "")
# The gateway posts residents' SMS replies to /inbound/sms/ with this bearer token
# (linli.inbound); unset, that address answers 404.
LINLI_SMS_INBOUND_TOKEN = env_str("LINLI_SMS_INBOUND_TOKEN", "") or ""
# WeChat (linli.wechat): login with the Official Account's web authorisation (OAuth 2.0) and
# template messages as a notification channel. Off while LINLI_WECHAT_APP_ID is unset (no
# button, its pages answer 404); the channel also needs LINLI_WECHAT_TEMPLATE_ID. The token
# checks the Official Account's message push. The two bases are WeChat's own; tests point
# them at a local fake (linli/wechat/fake_server.py).
LINLI_WECHAT_APP_ID = env_str("LINLI_WECHAT_APP_ID", "") or ""
LINLI_WECHAT_APP_SECRET = env_str("LINLI_WECHAT_APP_SECRET", "") or ""
LINLI_WECHAT_TOKEN = env_str("LINLI_WECHAT_TOKEN", "") or ""
LINLI_WECHAT_TEMPLATE_ID = env_str("LINLI_WECHAT_TEMPLATE_ID", "") or ""
LINLI_WECHAT_API_BASE = env_url("LINLI_WECHAT_API_BASE", "https://api.weixin.qq.com").rstrip("/")
LINLI_WECHAT_OPEN_BASE = env_url("LINLI_WECHAT_OPEN_BASE", "https://open.weixin.qq.com").rstrip("/")
if LINLI_WECHAT_APP_ID and not LINLI_WECHAT_APP_SECRET:
    raise ImproperlyConfigured("LINLI_WECHAT_APP_ID is set: set LINLI_WECHAT_APP_SECRET too")
# Sign-in codes by SMS (linli.signin): a code answers for LINLI_PHONE_CODE_TTL_SECONDS and
# dies after LINLI_PHONE_CODE_MAX_TRIES wrong tries; a number gets a new code no sooner than
# LINLI_PHONE_CODE_RESEND_SECONDS after the last and at most LINLI_PHONE_CODES_PER_NUMBER_HOUR
# in an hour; one client address asks for at most LINLI_PHONE_CODES_PER_ADDRESS_HOUR codes
# and reset e-mails together in an hour. A reset e-mail address has the number's limits.
LINLI_PHONE_CODE_TTL_SECONDS = env_int("LINLI_PHONE_CODE_TTL_SECONDS", 300)
LINLI_PHONE_CODE_MAX_TRIES = env_int("LINLI_PHONE_CODE_MAX_TRIES", 5)
LINLI_PHONE_CODE_RESEND_SECONDS = env_int("LINLI_PHONE_CODE_RESEND_SECONDS", 60)
LINLI_PHONE_CODES_PER_NUMBER_HOUR = env_int("LINLI_PHONE_CODES_PER_NUMBER_HOUR", 5)
LINLI_PHONE_CODES_PER_ADDRESS_HOUR = env_int("LINLI_PHONE_CODES_PER_ADDRESS_HOUR", 30)
# After a failed attempt the next waits base * 2**(attempts - 1) seconds, at most the cap.
LINLI_OUTBOX_BACKOFF_SECONDS = env_int("LINLI_OUTBOX_BACKOFF_SECONDS", 30)
LINLI_OUTBOX_BACKOFF_MAX_SECONDS = env_int("LINLI_OUTBOX_BACKOFF_MAX_SECONDS", 3600)
# An attempt holds its message this long: no other worker sends it meanwhile, and if the
# worker dies during the send the message is sent again (same dedupe key) after it. Longer
# than any one send can take (SMTP spends up to one timeout on each of several steps).
LINLI_OUTBOX_ATTEMPT_TIMEOUT_SECONDS = env_int("LINLI_OUTBOX_ATTEMPT_TIMEOUT_SECONDS", 120)

# The cache is shared by every process (throttling, the emergency banner and anything cached
# agree from one request to the next) and fails soft: unreachable, it is a miss and pages work
# from the database (linli.ops.cache). The embedded default keeps it in files under
# var/cache: one machine's processes share it with nothing to install, and unlike a database
# cache it takes no SQLite write lock on a page that only reads. Production: Redis, where a
# hung server costs a request at most LINLI_REDIS_TIMEOUT_SECONDS, once per few seconds.
CACHES = {
    "default": {
        "BACKEND": "linli.ops.cache.FailSoftFileBasedCache",
        "LOCATION": str(VAR_DIR / "cache"),
        "OPTIONS": {"MAX_ENTRIES": 1000},
    }
}
if env_str("LINLI_REDIS_URL"):
    CACHES["default"] = {
        "BACKEND": "linli.ops.cache.FailSoftRedisCache",
        "LOCATION": env_str("LINLI_REDIS_URL"),
        "OPTIONS": {
            "socket_connect_timeout": LINLI_REDIS_TIMEOUT_SECONDS,
            "socket_timeout": LINLI_REDIS_TIMEOUT_SECONDS,
        },
    }

# How long the answer to a write sent with an Idempotency-Key is kept (and replayed to a retry
# with the same key); the hourly job idempotency.purge_expired deletes older ones.
LINLI_IDEMPOTENCY_HOURS = env_int("LINLI_IDEMPOTENCY_HOURS", 24)

# Personal data: how many rows a list page shows, and the demo password.
LINLI_PAGE_SIZE = env_int("LINLI_PAGE_SIZE", 50)
LINLI_DEMO_PASSWORD = env_str("LINLI_DEMO_PASSWORD", "linli-demo")

# Logs go to standard error, one JSON object a line (LINLI_LOG_FORMAT=json|text|auto; auto,
# the default, is JSON unless standard error is a terminal), with the request id on every
# record of a request and secrets (api_key, tokens, passwords, cookies, the field key)
# redacted. One line a request on the logger linli.request; other loggers at LINLI_LOG_LEVEL.
LINLI_LOG_FORMAT = log_format_from_environment()
LOGGING = logging_config(log_format=LINLI_LOG_FORMAT, level=env_str("LINLI_LOG_LEVEL", "WARNING"))

# Operations endpoints (linli.ops): /metrics and the details of /readyz answer callers on this
# machine, or anyone sending `Authorization: Bearer <LINLI_METRICS_TOKEN>` (empty: nobody).
LINLI_METRICS_TOKEN = env_str("LINLI_METRICS_TOKEN", "")
# /readyz: how long the cache and broker may take to answer, and the free space under the var
# directory (database, uploads, backups) below which the platform is not ready.
LINLI_READYZ_TIMEOUT_SECONDS = env_int("LINLI_READYZ_TIMEOUT_SECONDS", 2)
LINLI_READYZ_MIN_FREE_DISK_MB = env_int("LINLI_READYZ_MIN_FREE_DISK_MB", 500)
