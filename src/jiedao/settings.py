"""Django settings for Jiedao.

Everything that differs between a laptop demo and a production city is read from
the environment: ``DATABASE_URL`` (SQLite file by default), ``JIEDAO_SECRET_KEY``,
``JIEDAO_FIELD_KEYS`` and ``JIEDAO_INDEX_KEY`` (encryption of personal data; key
files in the data directory when unset), ``JIEDAO_DEBUG``,
``JIEDAO_DATA_DIR`` (where the SQLite file and uploads live).
"""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
REPO_DIR = BASE_DIR.parent.parent
DATA_DIR = Path(os.environ.get("JIEDAO_DATA_DIR", REPO_DIR / "var"))
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = os.environ.get("JIEDAO_DEBUG", "0") == "1"
# The demo key is only a fallback for a laptop; `jiedao check` refuses it in production.
DEMO_SECRET_KEY = "jiedao-demo-secret-key-do-not-use-in-production-0123456789"
SECRET_KEY = os.environ.get("JIEDAO_SECRET_KEY", DEMO_SECRET_KEY)
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
ALLOWED_HOSTS = os.environ.get("JIEDAO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver,[::1]").split(",")
CSRF_TRUSTED_ORIGINS = [
    o for o in os.environ.get("JIEDAO_CSRF_TRUSTED_ORIGINS", "").split(",") if o
]

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
    "jiedao.cases",
    "jiedao.duties",
    "jiedao.registry",
    "jiedao.open311",
    "jiedao.hall",
    "jiedao.emergency",
    "jiedao.web",
    "jiedao.demo",
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
    "jiedao.web.middleware.ElderlyModeMiddleware",
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
            "PRAGMA journal_mode=WAL;"
            "PRAGMA synchronous=NORMAL;"
            "PRAGMA busy_timeout=20000;"
            "PRAGMA foreign_keys=ON;"
        ),
        "transaction_mode": "IMMEDIATE",
    }
    # The same backend, except that writers queue for the lock (threads on a lock,
    # processes on a lock file) instead of polling in SQLite's busy handler, which
    # sleeps up to 100 ms at a time and made the slowest answers: jiedao.common.sqlite.
    DATABASES["default"]["ENGINE"] = "jiedao.common.sqlite"
    DATABASES["default"]["CONN_MAX_AGE"] = 0 if DEBUG else DATABASES["default"]["CONN_MAX_AGE"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "org.User"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:home"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
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

TASKS = {
    "default": {
        "BACKEND": os.environ.get("JIEDAO_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("JIEDAO_LOG_LEVEL", "WARNING")},
}

# --- Jiedao's own settings -------------------------------------------------
JIEDAO = {
    # Office hours for hour-based limits that count only office time.
    "OFFICE_HOURS": [("09:00", "12:00"), ("13:30", "18:00")],
    # How long after dispatch a unit may still return a case (退单), in hours.
    "RETURN_WINDOW_HOURS": 24,
    # Weights of the composite of the 三率 (response, resolution, satisfaction).
    "THREE_RATE_WEIGHTS": {"response": 0.10, "resolution": 0.50, "satisfaction": 0.40},
    # Share of the allowed time left below which a case turns yellow.
    "YELLOW_SHARE": 0.20,
    # Case number prefix: JD + yyyymmdd + 5-digit sequence of the day.
    "CASE_NUMBER_PREFIX": "JD",
    "MAX_PHOTO_BYTES": 10 * 1024 * 1024,
    # Days after a case is closed or merged before the worker erases the reporter's
    # contact data (name, phone, address) from it.
    "ANONYMISE_AFTER_DAYS": int(os.environ.get("JIEDAO_ANONYMISE_AFTER_DAYS", "365")),
    # Base-map tiles for the map page, e.g. "https://tiles.example/{z}/{x}/{y}.png" (an
    # offline tile server); empty: polygons and points on a plain background.
    "MAP_TILE_URL": os.environ.get("JIEDAO_MAP_TILE_URL", ""),
    "MAP_TILE_ATTRIBUTION": os.environ.get("JIEDAO_MAP_TILE_ATTRIBUTION", ""),
    # Overlap allowed between neighbouring grids (communities, streets) on import, as a
    # share of the smaller one's area: slivers from digitising a shared border.
    "GEO_OVERLAP_TOLERANCE": 0.005,
}
