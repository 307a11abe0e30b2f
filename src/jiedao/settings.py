"""Django settings for Jiedao.

Everything that differs between a laptop demo and a production city is read from
the environment: ``DATABASE_URL`` (SQLite file by default), ``JIEDAO_SECRET_KEY``,
``JIEDAO_FIELD_KEYS`` and ``JIEDAO_INDEX_KEY`` (encryption of personal data; key
files in the data directory when unset), ``JIEDAO_DEBUG``,
``JIEDAO_DATA_DIR`` (where the SQLite file and uploads live), ``JIEDAO_HTTPS`` (secure
cookies and HSTS behind an HTTPS proxy), ``JIEDAO_BACKUP_*`` (backups), ``JIEDAO_LOG_FORMAT``
(``json`` for structured logs) and the others listed in docs/operations.md.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url

from jiedao.common import sitekey
from jiedao.common.filemodes import private_directory

BASE_DIR = Path(__file__).resolve().parent
REPO_DIR = BASE_DIR.parent.parent
DATA_DIR = Path(os.environ.get("JIEDAO_DATA_DIR", REPO_DIR / "var"))
# Owner-only (0700) when made here: the database, uploads and by default the keys live inside.
private_directory(DATA_DIR)

DEBUG = os.environ.get("JIEDAO_DEBUG", "0") == "1"
# Keys for personal data at rest (identity numbers, phones, names, addresses), never
# derived from SECRET_KEY (see docs/data-protection.md). JIEDAO_FIELD_KEYS: Fernet keys,
# comma-separated, the first encrypts and all decrypt (JIEDAO_FIELD_KEY is read too).
# When unset, the keys live in FIELD_KEY_FILE, created (mode 0600) at first use and
# rotated by `jiedao keys rotate`. The blind index (keyed hashes for exact look-ups)
# has its own key, JIEDAO_INDEX_KEY or INDEX_KEY_FILE, which never changes.
KEY_DIR = Path(os.environ.get("JIEDAO_KEY_DIR", DATA_DIR / "keys"))
FIELD_KEY_FILE = KEY_DIR / "field.keys"
INDEX_KEY_FILE = KEY_DIR / "index.key"
FIELD_ENCRYPTION_KEY = os.environ.get("JIEDAO_FIELD_KEYS", "") or os.environ.get("JIEDAO_FIELD_KEY", "")
BLIND_INDEX_KEY = os.environ.get("JIEDAO_INDEX_KEY", "")
# The secret key (sessions, forms, signed links): JIEDAO_SECRET_KEY, else a random key made at
# first use in SECRET_KEY_FILE (0600), never one from the source (jiedao.common.sitekey).
# DEMO_SECRET_KEY is the key earlier versions shipped in the source: servers refuse to run with it.
DEMO_SECRET_KEY = sitekey.PUBLIC_KEY
SECRET_KEY_FILE = KEY_DIR / "secret.key"
SECRET_KEY = os.environ.get("JIEDAO_SECRET_KEY", "") or sitekey.read_or_create(SECRET_KEY_FILE)
ALLOWED_HOSTS = os.environ.get("JIEDAO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver,[::1]").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("JIEDAO_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "ninja",  # serves Swagger UI for /api/docs from static files, not a CDN
    "jiedao.common",
    "jiedao.org",
    "jiedao.geo",
    "jiedao.workcal",
    "jiedao.messaging",
    "jiedao.cases",
    "jiedao.duties",
    "jiedao.registry",
    "jiedao.open311",
    "jiedao.hall",
    "jiedao.emergency",
    "jiedao.evaluation",
    "jiedao.participation",
    "jiedao.intelligence",
    "jiedao.knowledge",
    "jiedao.ops",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "jiedao.web",
    "jiedao.demo",
]

MIDDLEWARE = [
    "jiedao.ops.metrics.RequestMetricsMiddleware",
    "jiedao.ops.metrics.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "jiedao.common.middleware.RejectNulMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "jiedao.common.middleware.NoStoreMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "jiedao.org.twofactor.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "jiedao.web.middleware.ElderlyModeMiddleware",
    "jiedao.common.middleware.ContentSecurityPolicyMiddleware",  # django-csp's, the policy built once
    # Last: it turns a locked-out sign-in into the lock-out answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "jiedao.urls"
WSGI_APPLICATION = "jiedao.wsgi.application"

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
                "jiedao.web.context.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'jiedao.sqlite3'}"),
        conn_max_age=int(os.environ.get("JIEDAO_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers work while one writer writes; IMMEDIATE transactions take
    # the write lock up front, so concurrent writers wait instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA busy_timeout=20000;PRAGMA foreign_keys=ON;"
        ),
        "transaction_mode": "IMMEDIATE",
    }
    # The same backend, except that writers queue for the lock (threads on a lock,
    # processes on a lock file) instead of polling in SQLite's busy handler, which
    # sleeps up to 100 ms at a time and made the slowest answers: jiedao.common.sqlite.
    DATABASES["default"]["ENGINE"] = "jiedao.common.sqlite"
    DATABASES["default"]["CONN_MAX_AGE"] = 0 if DEBUG else DATABASES["default"]["CONN_MAX_AGE"]
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The same backend, with a health check of kept connections that looks at the socket
    # instead of sending SELECT 1 before every request: jiedao.common.postgresql.
    DATABASES["default"]["ENGINE"] = "jiedao.common.postgresql"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "org.User"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:home"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
# Uploaded files and their folders are for the installation's own user only.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

TASKS = {
    "default": {
        "BACKEND": os.environ.get("JIEDAO_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# Shared by all web processes: the rate limits of the API, the report form and Open311 keys.
# The database cache culls a third of its rows (in key order) when it holds more than
# MAX_ENTRIES; Open311 pages ("open311-page:…") sort before the rate-limit counts ("throttle:…").
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "jiedao_cache",
        "OPTIONS": {"MAX_ENTRIES": 20000},
    }
}
# How many reverse proxies (each adding to X-Forwarded-For) stand before the server: 0 trusts
# only the connection's address, so a client cannot dodge a rate limit with a made-up header.
NINJA_NUM_PROXIES = int(os.environ.get("JIEDAO_PROXY_COUNT", "0"))

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
# Behind HTTPS (the reverse proxy of docs/operations.md): JIEDAO_HTTPS=1 makes the session and
# CSRF cookies secure, redirects plain HTTP, and sends HSTS. Off by default so that the demo
# works on http://127.0.0.1; `jiedao check` reports it when off.
HTTPS = os.environ.get("JIEDAO_HTTPS", "0") == "1"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = False
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_AGE = 8 * 3600  # a working day


def _tile_source(template):
    """The origin of the map tile server (``{s}`` subdomains as a wildcard), for the CSP."""

    parts = urlsplit(template.replace("{s}", "*"))
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


# Content-Security-Policy: scripts only from this site's own static files (no inline script,
# no eval); styles also inline (style attributes of server-rendered pages); images also from
# the map tile server. The API's interactive documentation (Swagger UI) needs its own inline
# start-up script and is left out.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/api/v1/docs"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"]
        + [src for src in [_tile_source(os.environ.get("JIEDAO_MAP_TILE_URL", ""))] if src],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Sign-in lock-out (django-axes): after 5 failed attempts for one user name from one address,
# that pair is locked for 15 minutes (web sign-in, admin and API token alike); a success resets.
# The address is the client's, as the rate limits read it (behind a proxy: JIEDAO_PROXY_COUNT),
# so that nobody can lock an account out for its owner. Failures from one address across user
# names are limited too: JIEDAO["SIGNIN_FAILURE_RATE"] (jiedao.org.backends).
AUTHENTICATION_BACKENDS = [
    "jiedao.org.backends.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("JIEDAO_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("JIEDAO_LOGIN_LOCK_MINUTES", "15")) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "jiedao.org.backends.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "jiedao.org.backends.lockout_response"
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
# Two-factor sign-in for staff who can see personal data unmasked (jiedao.org.twofactor).
OTP_TOTP_ISSUER = "Jiedao 街道"

# JIEDAO_LOG_FORMAT=json: one JSON object per line (time, level, logger, message and the
# request's method, route, status, ms, user_id), for a log collector.
LOG_FORMAT = os.environ.get("JIEDAO_LOG_FORMAT", "plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json" if LOG_FORMAT == "json" else "plain"}
    },
    "root": {"handlers": ["console"], "level": os.environ.get("JIEDAO_LOG_LEVEL", "WARNING")},
}

# --- Jiedao's own settings -------------------------------------------------
JIEDAO = {
    # Office hours for hour-based limits that count only office time.
    "OFFICE_HOURS": [("09:00", "12:00"), ("13:30", "18:00")],
    # How long after dispatch a unit may still return a case (退单), in hours.
    "RETURN_WINDOW_HOURS": 24,
    # 三事分流: whether calls settled at the desk count in the street-wide 三率 (no unit handled
    # them, so a unit's own rates never count them). Counted, a call answered (直接答复) or
    # advised (私事告知) is responded on time and resolved; void calls never count.
    "DESK_OUTCOMES_IN_RATES": {
        "answered": os.environ.get("JIEDAO_ANSWERED_IN_RATES", "0") == "1",
        "advised": os.environ.get("JIEDAO_ADVISED_IN_RATES", "0") == "1",
    },
    # 回访: a callback that did not reach the resident is tried again after this many hours;
    # after this many attempts the case is shown as unreachable (the dispatcher may close it).
    "CALLBACK_RETRY_HOURS": float(os.environ.get("JIEDAO_CALLBACK_RETRY_HOURS", "2")),
    "CALLBACK_ATTEMPTS": int(os.environ.get("JIEDAO_CALLBACK_ATTEMPTS", "3")),
    # 核查: the grid worker's phone must be within this many metres of the case's position (with
    # a photo) for an on-site check; farther, without a position or a photo, a reason is needed.
    "VERIFY_DISTANCE_M": int(os.environ.get("JIEDAO_VERIFY_DISTANCE_M", "200")),
    # 重复投诉: a case repeats a closed case when it comes within this many days of its closing,
    # from the same reporter (phone or account), or of the same category within this many metres.
    "REPEAT_DAYS": int(os.environ.get("JIEDAO_REPEAT_DAYS", "30")),
    "REPEAT_METERS": int(os.environ.get("JIEDAO_REPEAT_METERS", "100")),
    # Weights of the composite of the 三率 (response, resolution, satisfaction).
    "THREE_RATE_WEIGHTS": {"response": 0.10, "resolution": 0.50, "satisfaction": 0.40},
    # 满意率: how much a 基本满意 rating counts against a 满意 one (1) in the evaluation's 满意率.
    "BASIC_SATISFIED_WEIGHT": float(os.environ.get("JIEDAO_BASIC_SATISFIED_WEIGHT", "0.9")),
    # Share of the allowed time left below which a case turns yellow.
    "YELLOW_SHARE": 0.20,
    # Reminders (cases.reminders): minutes before a case's response limit, and before a whistle's report deadline.
    "REMIND_BEFORE_RESPONSE_MINUTES": int(os.environ.get("JIEDAO_REMIND_BEFORE_RESPONSE_MINUTES", "30")),
    "REMIND_BEFORE_REPORT_MINUTES": int(os.environ.get("JIEDAO_REMIND_BEFORE_REPORT_MINUTES", "60")),
    # Minutes the person told of an emergency has to acknowledge it before the next on the
    # duty roster (and after the last, the leaders) is told (emergency.services).
    "EMERGENCY_ACK_MINUTES": int(os.environ.get("JIEDAO_EMERGENCY_ACK_MINUTES", "5")),
    # 督办: the reply deadline may be set at most this many days ahead.
    "SUPERVISE_MAX_DAYS": int(os.environ.get("JIEDAO_SUPERVISE_MAX_DAYS", "30")),
    # 自动督办 by the deadline sweep: a case overdue by more than this many working days, or reworked
    # this many times, is supervised by the system, its reply due this many hours later.
    "SUPERVISE_AUTO_OVERDUE_WORKDAYS": int(os.environ.get("JIEDAO_SUPERVISE_AUTO_OVERDUE_WORKDAYS", "1")),
    "SUPERVISE_AUTO_REWORKS": int(os.environ.get("JIEDAO_SUPERVISE_AUTO_REWORKS", "2")),
    "SUPERVISE_AUTO_REPLY_HOURS": int(os.environ.get("JIEDAO_SUPERVISE_AUTO_REPLY_HOURS", "24")),
    # Case number prefix: JD + yyyymmdd + 5-digit sequence of the day.
    "CASE_NUMBER_PREFIX": "JD",
    "MAX_PHOTO_BYTES": 10 * 1024 * 1024,
    # Days after a case is closed or merged before the worker erases the reporter's
    # contact data (name, phone, address) from it.
    "ANONYMISE_AFTER_DAYS": int(os.environ.get("JIEDAO_ANONYMISE_AFTER_DAYS", "365")),
    # Base-map tiles for every map (the map page, the cockpit), e.g.
    # "https://tiles.example/{z}/{x}/{y}.png" (an offline tile server; its origin joins the
    # CSP's img-src above), with the attribution its licence asks for. Empty: the street's own
    # base map (geo.basemap: communities, roads with their names, notable places), served by
    # this site and drawn under the grids.
    "MAP_TILE_URL": os.environ.get("JIEDAO_MAP_TILE_URL", ""),
    "MAP_TILE_ATTRIBUTION": os.environ.get("JIEDAO_MAP_TILE_ATTRIBUTION", ""),
    # Overlap allowed between neighbouring grids (communities, streets) on import, as a
    # share of the smaller one's area: slivers from digitising a shared border.
    "GEO_OVERLAP_TOLERANCE": 0.005,
    # Two-factor sign-in (TOTP) for operators, dispatchers, handlers, grid workers and administrators.
    "STAFF_TWO_FACTOR": os.environ.get("JIEDAO_STAFF_2FA", "1") == "1",
    # Failed sign-ins from one address, whatever the user names (sign-in page, admin, API token),
    # before that address must wait (HTTP 429); successful sign-ins are not counted.
    "SIGNIN_FAILURE_RATE": os.environ.get("JIEDAO_SIGNIN_FAILURE_RATE", "20/15m"),
    # Days a service-hall rating link (sent by SMS) stays valid.
    "RATING_LINK_DAYS": int(os.environ.get("JIEDAO_RATING_LINK_DAYS", "30")),
    # Rate limits: reports through the public form per address, and Open311 submissions per key.
    "PORTAL_RATE": os.environ.get("JIEDAO_PORTAL_RATE", "20/h"),
    "OPEN311_KEY_RATE": os.environ.get("JIEDAO_OPEN311_KEY_RATE", "600/h"),
    # Limits of anonymous pages and look-ups (jiedao.common.throttle; the table is in
    # docs/operations.md §9). Tracking a case by number and phone: look-ups per client, and
    # failed look-ups per case number and per phone, whatever the address.
    "TRACK_RATE": os.environ.get("JIEDAO_TRACK_RATE", "30/h"),
    "TRACK_NUMBER_RATE": os.environ.get("JIEDAO_TRACK_NUMBER_RATE", "10/h"),
    "TRACK_PHONE_RATE": os.environ.get("JIEDAO_TRACK_PHONE_RATE", "10/h"),
    # Failed look-ups by a link's or a token's secret per client (Open311 tokens, hall links).
    "LOOKUP_FAILURE_RATE": os.environ.get("JIEDAO_LOOKUP_FAILURE_RATE", "20/h"),
    # Search as one types (duty list, similar proposals, duplicate hints, category picker).
    "SEARCH_RATE": os.environ.get("JIEDAO_SEARCH_RATE", "120/m"),
    # Other public pages and API reads; downloads built on request (PDF, Excel); queue tickets.
    "PUBLIC_PAGE_RATE": os.environ.get("JIEDAO_PUBLIC_PAGE_RATE", "120/m"),
    "DOWNLOAD_RATE": os.environ.get("JIEDAO_DOWNLOAD_RATE", "30/h"),
    "HALL_TICKET_RATE": os.environ.get("JIEDAO_HALL_TICKET_RATE", "60/h"),
    # Open311 reads without an api_key: per client, answered from the cache for this long.
    "OPEN311_READ_RATE": os.environ.get("JIEDAO_OPEN311_READ_RATE", "60/m"),
    "OPEN311_CACHE_SECONDS": int(os.environ.get("JIEDAO_OPEN311_CACHE_SECONDS", "60")),
    # Look-ups of persons by a complete identity number or phone (一户一档), for those who may
    # unmask: per user, and per number whoever asks.
    "REGISTRY_LOOKUP_RATE": os.environ.get("JIEDAO_REGISTRY_LOOKUP_RATE", "30/h"),
    "REGISTRY_LOOKUP_TARGET_RATE": os.environ.get("JIEDAO_REGISTRY_LOOKUP_TARGET_RATE", "10/h"),
    # Backups (jiedao backup, and the worker when BACKUP_EVERY_HOURS > 0): where, how often, how many kept.
    "BACKUP_DIR": os.environ.get("JIEDAO_BACKUP_DIR", ""),
    "BACKUP_EVERY_HOURS": float(os.environ.get("JIEDAO_BACKUP_EVERY_HOURS", "0")),
    "BACKUP_KEEP": int(os.environ.get("JIEDAO_BACKUP_KEEP", "7")),
    # /healthz and jiedao check: the worker is late after this many seconds without a heartbeat;
    # the disk holding the data directory needs this much free space.
    "WORKER_LATE_SECONDS": 180,
    # The unit (its code) that answers for the installation: blue warnings' rectification tasks go
    # to it; empty: the street's default unit.
    "SYSTEM_UNIT": os.environ.get("JIEDAO_SYSTEM_UNIT", ""),
    "DISK_MIN_FREE_BYTES": int(os.environ.get("JIEDAO_DISK_MIN_FREE_BYTES", str(1 << 30))),
    # The outbox (messaging.outbox): attempts per message before it fails, the first wait after a
    # failure (doubled each time, at most OUTBOX_BACKOFF_MAX_SECONDS), and how long a message
    # may stay "sending" before a worker that died is presumed and it is sent again.
    "OUTBOX_ATTEMPTS": int(os.environ.get("JIEDAO_OUTBOX_ATTEMPTS", "8")),
    "OUTBOX_BACKOFF_SECONDS": float(os.environ.get("JIEDAO_OUTBOX_BACKOFF_SECONDS", "60")),
    "OUTBOX_BACKOFF_MAX_SECONDS": float(os.environ.get("JIEDAO_OUTBOX_BACKOFF_MAX_SECONDS", "3600")),
    "OUTBOX_LEASE_SECONDS": float(os.environ.get("JIEDAO_OUTBOX_LEASE_SECONDS", "300")),
    "OUTBOX_CONCURRENCY": int(os.environ.get("JIEDAO_OUTBOX_CONCURRENCY", "16")),  # sends in flight at once
    # The site's address as recipients reach it (https://jiedao.example.gov.cn): a message's link
    # to a page is sent as this address plus the page's path; empty: the path alone.
    "OUTBOX_SITE_URL": os.environ.get("JIEDAO_SITE_URL", "").rstrip("/"),
    # Quiet hours (免打扰, local time "22:00-07:00"; empty: none): a message that is not urgent
    # (messaging.wording, the template's 紧急) waits for their end. A person who would get more than
    # DIGEST_AFTER messages of one channel within DIGEST_MINUTES gets the rest as one digest.
    "QUIET_HOURS": os.environ.get("JIEDAO_QUIET_HOURS", "22:00-07:00"),
    "DIGEST_AFTER": int(os.environ.get("JIEDAO_DIGEST_AFTER", "3")),
    "DIGEST_MINUTES": int(os.environ.get("JIEDAO_DIGEST_MINUTES", "10")),
    # The secret part of the address SMS providers post their delivery reports to
    # (/messaging/receipts/<channel>/<token>/); empty: reports are not taken.
    "SMS_RECEIPT_TOKEN": os.environ.get("JIEDAO_SMS_RECEIPT_TOKEN", ""),
    # The SMS signature the provider adds (【街道】), counted in a template's SMS length.
    "SMS_SIGNATURE": os.environ.get("JIEDAO_SMS_SIGNATURE", os.environ.get("JIEDAO_SMS_TENCENT_SIGN_NAME", "街道")),
}

# --- E-mail (the outbox's e-mail channel, messaging/channels/email.py) -----
# Without JIEDAO_EMAIL_HOST no e-mail is sent: the channel reports the missing server.
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = os.environ.get("JIEDAO_EMAIL_HOST", "")
EMAIL_PORT = int(os.environ.get("JIEDAO_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("JIEDAO_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("JIEDAO_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("JIEDAO_EMAIL_USE_TLS", "0") == "1"
EMAIL_USE_SSL = os.environ.get("JIEDAO_EMAIL_USE_SSL", "0") == "1"
EMAIL_TIMEOUT = float(os.environ.get("JIEDAO_EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = os.environ.get("JIEDAO_EMAIL_FROM", "jiedao@localhost")

# --- Group robots and SMS (messaging/channels; docs/messaging.md, "渠道 Channels") ---------
# Robots by name: JIEDAO_WECOM_ROBOTS="综合执法队=KEY1;城管=KEY2" (the webhook's key=…);
# JIEDAO_DINGTALK_ROBOTS="街道群=TOKEN" or "街道群=TOKEN,SECRET" for signed mode (加签).
WECOM = {
    "BASE_URL": os.environ.get("JIEDAO_WECOM_BASE_URL", "https://qyapi.weixin.qq.com"),
    "ROBOTS": os.environ.get("JIEDAO_WECOM_ROBOTS", ""),
    "TIMEOUT": float(os.environ.get("JIEDAO_WECOM_TIMEOUT", "10")),
}
DINGTALK = {
    "BASE_URL": os.environ.get("JIEDAO_DINGTALK_BASE_URL", "https://oapi.dingtalk.com"),
    "ROBOTS": os.environ.get("JIEDAO_DINGTALK_ROBOTS", ""),
    "TIMEOUT": float(os.environ.get("JIEDAO_DINGTALK_TIMEOUT", "10")),
}
# A generic HTTP SMS gateway: body with {phone} {text} {key} {secret}, "form" or "json", and the
# success rule on its JSON answer ("code=0"); RETRY_CODES: its codes that mean "try later".
SMS_HTTP = {
    "URL": os.environ.get("JIEDAO_SMS_HTTP_URL", ""),
    "METHOD": os.environ.get("JIEDAO_SMS_HTTP_METHOD", "POST"),
    "BODY": os.environ.get("JIEDAO_SMS_HTTP_BODY", ""),
    "CONTENT_TYPE": os.environ.get("JIEDAO_SMS_HTTP_CONTENT_TYPE", "form"),
    "SUCCESS": os.environ.get("JIEDAO_SMS_HTTP_SUCCESS", "code=0"),
    "ID_FIELD": os.environ.get("JIEDAO_SMS_HTTP_ID_FIELD", ""),
    "MESSAGE_FIELD": os.environ.get("JIEDAO_SMS_HTTP_MESSAGE_FIELD", ""),
    "RETRY_CODES": os.environ.get("JIEDAO_SMS_HTTP_RETRY_CODES", ""),
    "SECRET": os.environ.get("JIEDAO_SMS_HTTP_SECRET", ""),
    "TIMEOUT": float(os.environ.get("JIEDAO_SMS_HTTP_TIMEOUT", "10")),
}
# Tencent Cloud SMS (SendSms 2021-01-11): API key, application (SdkAppId), approved signature.
SMS_TENCENT = {
    "SECRET_ID": os.environ.get("JIEDAO_SMS_TENCENT_SECRET_ID", ""),
    "SECRET_KEY": os.environ.get("JIEDAO_SMS_TENCENT_SECRET_KEY", ""),
    "APP_ID": os.environ.get("JIEDAO_SMS_TENCENT_APP_ID", ""),
    "SIGN_NAME": os.environ.get("JIEDAO_SMS_TENCENT_SIGN_NAME", ""),
    "REGION": os.environ.get("JIEDAO_SMS_TENCENT_REGION", "ap-guangzhou"),
    "ENDPOINT": os.environ.get("JIEDAO_SMS_TENCENT_ENDPOINT", "https://sms.tencentcloudapi.com"),
    "TIMEOUT": float(os.environ.get("JIEDAO_SMS_TENCENT_TIMEOUT", "10")),
}
