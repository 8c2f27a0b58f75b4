"""One settings module, driven by environment variables (as healthchecks.io does).

Defaults suit a developer's laptop: DEBUG on, SQLite in WAL mode under var/.
Production sets SECRET_KEY, DEBUG=0, ALLOWED_HOSTS and DATABASE_URL.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
# The development key is only usable with DEBUG on; production must set its own.
SECRET_KEY = os.environ.get("SECRET_KEY") or (
    "dev-only-insecure-key-do-not-use-in-production" if DEBUG else None
)
if not SECRET_KEY:
    raise RuntimeError("SECRET_KEY must be set when DEBUG is off")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
SITE_NAME = os.environ.get("SITE_NAME", "mutualaid")
# Where the public site lives: absolute links made outside a request (QR codes in
# `mutualaid print`). Requests use their own host.
# Also the start of links in casework emails (sent by commands with no request);
# CASEWORK_SITE_URL, its former name for those, is still read when SITE_URL is unset.
SITE_URL = (
    os.environ.get("SITE_URL") or os.environ.get("CASEWORK_SITE_URL") or "http://127.0.0.1:8000"
).rstrip("/")
VAR_DIR = Path(os.environ.get("MUTUALAID_VAR_DIR", PROJECT_DIR / "var"))

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
    "mutualaid.accounts",
    "mutualaid.audit",
    "mutualaid.directory",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy without 'unsafe-inline' (mutualaid/middleware.py).
    "mutualaid.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The interface language: the visitor's choice (cookie, set by /i18n/setlang/), else
    # their browser's Accept-Language, else English. After sessions, before common.
    "django.middleware.locale.LocaleMiddleware",
    "mutualaid.middleware.VaryOnLanguageCookieMiddleware",
    # The APIs and feeds in the service's language only, so cached responses are shared safely.
    "mutualaid.middleware.DataInServiceLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Idle expiry and "sign out everywhere", then MFA for every client-data URL.
    "mutualaid.accounts.middleware.SessionSecurityMiddleware",
    "mutualaid.accounts.middleware.ClientDataMFAMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "mutualaid.urls"
WSGI_APPLICATION = "mutualaid.wsgi.application"

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


def database_config() -> dict:
    url = os.environ.get("DATABASE_URL")
    if url:
        config = dj_database_url.parse(
            url, conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60"))
        )
    else:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        config = {"ENGINE": "django.db.backends.sqlite3", "NAME": VAR_DIR / "mutualaid.sqlite3"}
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets searches read while an import writes; IMMEDIATE avoids
        # "database is locked" upgrades from read to write inside a transaction.
        config.setdefault("OPTIONS", {}).update(
            {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA busy_timeout=5000;",
                "transaction_mode": "IMMEDIATE",
            }
        )
        config.setdefault("TEST", {}).setdefault("NAME", None)
    return config


DATABASES = {"default": database_config()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Staff sign-in (docs/security.md): Argon2id hashes (older hashes upgrade on next sign-in),
# long passwords, TOTP second factor, lockout after AXES_FAILURE_LIMIT failures.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The language for visitors whose browser asks for none we have, and for emails.
LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "en-gb")
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/London")
USE_I18N = True
# The interface languages (docs/development.md, "Translations"): English and Spanish.
# Spanish messages are in mutualaid/locale/es/LC_MESSAGES/django.po; `make setup` compiles
# them (the .mo files are never committed).
LANGUAGES = [("en-gb", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))

# Production hardening: on whenever DEBUG is off.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
# BEHIND_PROXY: one trusted reverse proxy sets X-Forwarded-Proto and X-Forwarded-For.
BEHIND_PROXY = env_bool("BEHIND_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Sessions end after SESSION_IDLE_MINUTES without a request (sliding expiry, enforced
# server-side by SessionSecurityMiddleware as well as by the cookie's age).
SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", "30"))
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Two-factor authentication (django-otp): TOTP apps, plus single-use recovery codes.
OTP_TOTP_ISSUER = SITE_NAME
OTP_RECOVERY_CODES = 10
# URL prefixes that carry client data: refused to sessions without a verified second factor.
CLIENT_DATA_URL_PREFIXES = ["/casework/", "/api/v1/casework/"]

# Lockout (django-axes): AXES_FAILURE_LIMIT failed sign-ins lock the username, and
# separately the address, for AXES_COOLOFF_MINUTES.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "30")))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/lockout.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
# The same client address for lockouts and the audit trail (honours BEHIND_PROXY).
AXES_CLIENT_IP_CALLABLE = "mutualaid.audit.services.client_ip"

# Field encryption (mutualaid/accounts/encryption.py): Fernet keys, comma-separated, the
# first encrypts and all decrypt; or a file with one key a line. Required when DEBUG is off.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS", "")
FIELD_ENCRYPTION_KEY_FILE = os.environ.get("FIELD_ENCRYPTION_KEY_FILE") or None
if not DEBUG and not (FIELD_ENCRYPTION_KEYS or FIELD_ENCRYPTION_KEY_FILE):
    raise RuntimeError(
        "FIELD_ENCRYPTION_KEYS or FIELD_ENCRYPTION_KEY_FILE must be set when DEBUG is off"
    )
# Development only (DEBUG on, no keys): a key generated once into this file, mode 600.
FIELD_ENCRYPTION_DEV_KEY_FILE = (
    VAR_DIR / "field-keys"
    if DEBUG and not (FIELD_ENCRYPTION_KEYS or FIELD_ENCRYPTION_KEY_FILE)
    else None
)

# Staff API tokens expire after this many days unless issued for fewer.
API_TOKEN_DEFAULT_DAYS = int(os.environ.get("API_TOKEN_DEFAULT_DAYS", "90"))
API_TOKEN_MAX_DAYS = int(os.environ.get("API_TOKEN_MAX_DAYS", "365"))


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
# Errors and logs never carry client data (mutualaid/casework/error_reports.py): error
# reports star out POST and GET values, cookies, headers and frame variables; private-link
# tokens are cut out of request log lines.
DEFAULT_EXCEPTION_REPORTER = "mutualaid.casework.error_reports.ClientDataSafeReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "mutualaid.casework.error_reports.ClientDataSafeFilter"
LOGGING["filters"] = {
    "private_links": {"()": "mutualaid.casework.error_reports.RedactPrivateLinks"}
}
LOGGING["loggers"] = {"django.request": {"filters": ["private_links"]}}

# Place names resolve offline; ambiguous names ("Richmond") prefer these countries.
GAZETTEER_COUNTRIES = env_list("GAZETTEER_COUNTRIES", "GB")

# Listings not verified or updated in their feed for this many months are flagged stale.
STALE_AFTER_MONTHS = int(os.environ.get("STALE_AFTER_MONTHS", "12"))

# Feed imports (`mutualaid import URL`, `mutualaid sync`): a download must finish within
# FEED_FETCH_TIMEOUT seconds and stay under FEED_MAX_BYTES; an import that would remove more
# than FEED_MAX_REMOVAL_FRACTION of a source's listed meetings is refused (--allow-mass-removal).
FEED_FETCH_TIMEOUT = float(os.environ.get("FEED_FETCH_TIMEOUT", "30"))
FEED_MAX_BYTES = int(os.environ.get("FEED_MAX_BYTES", str(50 * 1024 * 1024)))
FEED_MAX_REMOVAL_FRACTION = float(os.environ.get("FEED_MAX_REMOVAL_FRACTION", "0.5"))

# --- Public site: API docs, problem reports, the map (docs/directory.md) ----------------
# django-ninja as an app, so its API docs page (/api/v1/docs) uses the Swagger UI files
# that pip installed with it (ninja/static), not a CDN.
INSTALLED_APPS += ["ninja"]

# The cache holds the report rate-limit counters. The default (memory of one process) is
# right for `make run` and one-process servers; with several processes set a shared one,
# e.g. CACHE_BACKEND=django.core.cache.backends.filebased.FileBasedCache
# CACHE_LOCATION=/srv/mutualaid/var/cache.
if "CACHES" not in globals():
    CACHES = {
        "default": {
            "BACKEND": os.environ.get(
                "CACHE_BACKEND", "django.core.cache.backends.locmem.LocMemCache"
            ),
            "LOCATION": os.environ.get("CACHE_LOCATION", "mutualaid"),
        }
    }

# --- Production serving (docs/deploy.md) -------------------------------------------------
# CACHE_URL (mutualaid/lib/cache_url.py) picks the cache in one variable: locmem:// (the
# default, one process), file:///path (every process on one machine), db://table or
# redis://host (every machine). Searches cached there are keyed on the directory
# generation (mutualaid/directory/cache.py), so every change is seen at once; they are
# kept SEARCH_CACHE_SECONDS (0: no search cache).
if os.environ.get("CACHE_URL"):
    from mutualaid.lib.cache_url import parse_cache_url

    CACHES = {"default": parse_cache_url(os.environ["CACHE_URL"])}
SEARCH_CACHE_SECONDS = int(os.environ.get("SEARCH_CACHE_SECONDS", "60"))
# Each worker re-reads the generation at most this often (a change made by another
# process is seen within it; 0 with DEBUG on, so tests and development see every change).
GENERATION_MEMO_SECONDS = float(os.environ.get("GENERATION_MEMO_SECONDS", "0" if DEBUG else "1"))
# The Meeting Guide feeds are rendered once per directory generation into files here (and
# their gzip), then served from disk with sendfile (mutualaid/directory/feed_files.py). On
# several machines: shared storage, or each machine renders its own (docs/deploy.md).
FEED_CACHE_DIR = Path(os.environ.get("FEED_CACHE_DIR", VAR_DIR / "feeds"))
# After a change, readers get the previous rendering while a thread renders the new one
# (0: the first reader after a change renders it, and waits).
FEED_RENDER_IN_BACKGROUND = env_bool("FEED_RENDER_IN_BACKGROUND", True)
# Searches near a point use an in-process NumPy index of listed meetings
# (mutualaid/directory/search_index.py) once the directory lists this many; 0 always.
SEARCH_INDEX = os.environ.get("SEARCH_INDEX", "on") != "off"
SEARCH_INDEX_MIN_MEETINGS = int(os.environ.get("SEARCH_INDEX_MIN_MEETINGS", "20000"))
# "background": a worker builds its index in a thread while its searches use SQL (no
# request waits for a build); "inline": the search that needs it builds it (tests,
# benchmarks). A failed build is tried again by a search this many seconds later.
SEARCH_INDEX_BUILD = os.environ.get("SEARCH_INDEX_BUILD", "background")
SEARCH_INDEX_RETRY_SECONDS = float(os.environ.get("SEARCH_INDEX_RETRY_SECONDS", "60"))

# Middleware (mutualaid/serving.py): gzip first (it compresses whatever the rest return,
# with Django's BREACH padding, and honours gzip;q=0), then ETag and 304 for every
# response (inside gzip, so the ETag is of the plain body; pages' CSRF tokens left out),
# then static files from whitenoise right after SecurityMiddleware.
MIDDLEWARE.insert(0, "mutualaid.serving.GZipMiddleware")
MIDDLEWARE.insert(1, "mutualaid.serving.ConditionalGetMiddleware")
# Outermost: HEAD responses keep their headers and lose their body.
MIDDLEWARE.insert(0, "mutualaid.serving.HeadWithoutBodyMiddleware")
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "whitenoise.middleware.WhiteNoiseMiddleware",
)
# Static files: with DEBUG on, straight from the apps' and STATICFILES_DIRS folders (no
# collectstatic); with DEBUG off, from STATIC_ROOT, filled by `collectstatic` (`mutualaid
# serve` runs it) with hashed names (cached for ever) and gzip/brotli copies.
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", DEBUG)
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": os.environ.get(
            "STATICFILES_BACKEND",
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}

# A read replica: DATABASE_REPLICA_URL adds the "replica" database; reads go there, writes
# and migrations to the primary, and a request that wrote (or a browser that wrote within
# REPLICA_PIN_SECONDS) reads from the primary (mutualaid/db_routers.py, docs/deploy.md).
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"],
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
    # Tests: the replica is the test database itself unless REPLICA_TEST_SEPARATE=1
    # (tests/serving/test_replica.py, which migrates a second test database).
    if not env_bool("REPLICA_TEST_SEPARATE", False):
        DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["mutualaid.db_routers.PrimaryReplicaRouter"]
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
        "mutualaid.db_routers.PinPrimaryMiddleware",
    )
REPLICA_PIN_SECONDS = int(os.environ.get("REPLICA_PIN_SECONDS", "5"))
# Innermost: a repeated public API search answered from the cache without the view.
MIDDLEWARE.append("mutualaid.directory.cache.CachedSearchMiddleware")

# "Report a problem with this listing": at most this many reports from one address an
# hour, and on one meeting a day (more: HTTP 429).
REPORT_LIMIT_PER_ADDRESS = int(os.environ.get("REPORT_LIMIT_PER_ADDRESS", "5"))
REPORT_LIMIT_PER_MEETING = int(os.environ.get("REPORT_LIMIT_PER_MEETING", "20"))

# The results map: Leaflet from the npm registry, installed by `make setup` into
# var/npm (never committed) and served as static/leaflet/ when present. Tiles load
# from MAP_TILE_URL only when a visitor asks for the map.
NPM_DIR = Path(os.environ.get("MUTUALAID_NPM_DIR", PROJECT_DIR / "var" / "npm"))
LEAFLET_DIST = NPM_DIR / "node_modules" / "leaflet" / "dist"
# mutualaid/static belongs to no app, so it is named here (site.css, map.js).
STATICFILES_DIRS = [BASE_DIR / "static"]
if (LEAFLET_DIST / "leaflet.js").is_file():
    STATICFILES_DIRS.append(("leaflet", LEAFLET_DIST))
MAP_TILE_URL = os.environ.get("MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
MAP_ATTRIBUTION = os.environ.get(
    "MAP_ATTRIBUTION",
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
)

# --- Casework (docs/casework.md) -------------------------------------------------------
INSTALLED_APPS += ["mutualaid.casework"]
# Email: the console in development (messages print where `mutualaid serve` runs); set
# EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend and EMAIL_HOST etc. in production.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", f"{SITE_NAME} <noreply@localhost>")
# A volunteer's accept/decline link works this long (and never after the meeting starts);
# their "remove my details" link, this long; a client's self-report link, this by default.
CASEWORK_INTRODUCTION_LINK_DAYS = int(os.environ.get("CASEWORK_INTRODUCTION_LINK_DAYS", "14"))
CASEWORK_VOLUNTEER_REMOVE_LINK_DAYS = int(
    os.environ.get("CASEWORK_VOLUNTEER_REMOVE_LINK_DAYS", "365")
)
CASEWORK_SELF_REPORT_LINK_DAYS = int(os.environ.get("CASEWORK_SELF_REPORT_LINK_DAYS", "30"))
# At most this many self-reported entries a client can send in 24 hours (more: HTTP 429).
CASEWORK_SELF_REPORT_DAILY_LIMIT = int(os.environ.get("CASEWORK_SELF_REPORT_DAILY_LIMIT", "10"))
# Retention (docs/security.md): `mutualaid retention --apply` anonymises client records
# closed more than this many months ago. Decide it in the DPIA; 96 = eight years.
RETENTION_CLOSED_CASE_MONTHS = int(os.environ.get("RETENTION_CLOSED_CASE_MONTHS", "96"))
# Request size limits: a form or API body over DATA_UPLOAD_MAX_MEMORY_SIZE bytes, or with
# more than DATA_UPLOAD_MAX_NUMBER_FIELDS fields, is refused with 400 before any view runs.
# Nothing accepts file uploads; FILE_UPLOAD_MAX_MEMORY_SIZE keeps any at the same bound.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DATA_UPLOAD_MAX_MEMORY_SIZE", str(512 * 1024)))
DATA_UPLOAD_MAX_NUMBER_FIELDS = int(os.environ.get("DATA_UPLOAD_MAX_NUMBER_FIELDS", "1000"))
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE

# --- Operations (docs/reliability.md): /healthz, backups, JSON logs ---------------------
INSTALLED_APPS += ["mutualaid.ops"]
# LOG_FORMAT=json: one JSON object a line, with no personal data (mutualaid/ops/jsonlog.py).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text").strip().lower()
if LOG_FORMAT == "json":
    LOGGING.setdefault("formatters", {})["json"] = {"()": "mutualaid.ops.jsonlog.JsonFormatter"}
    LOGGING["handlers"]["console"]["formatter"] = "json"
# /healthz flags a URL source whose last successful import is older than this (it stays 200).
HEALTH_SOURCE_STALE_HOURS = float(os.environ.get("HEALTH_SOURCE_STALE_HOURS", "48"))
# `mutualaid backup` with no path writes here; PG_BIN_DIR finds pg_dump/pg_restore when
# they are not on PATH (default: the newest /usr/lib/postgresql/*/bin).
BACKUP_DIR = Path(os.environ.get("BACKUP_DIR", VAR_DIR / "backups"))
PG_BIN_DIR = os.environ.get("PG_BIN_DIR", "")

# --- Insights (docs/insights.md) --------------------------------------------------------
INSTALLED_APPS += ["mutualaid.insights"]
# Outcome figures come from client records: the same second-factor rule as casework.
CLIENT_DATA_URL_PREFIXES += ["/insights/"]
# Reach: a meeting within this many km counts as "within reach" (choice index, gaps).
INSIGHTS_REACH_KM = float(os.environ.get("INSIGHTS_REACH_KM", "10"))
