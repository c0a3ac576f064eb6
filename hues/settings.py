"""Settings: one source of truth, read from the environment.

Every variable is listed in README.md with its default. The defaults give the embedded mode
(SQLite, no broker: Celery tasks run eagerly after commit). A malformed value stops start-up
with a clear message rather than silently meaning "off".
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

from hues.addresses import TrustedProxiesInvalid, parse_trusted_proxies
from hues.city import DEFAULT_CITY, CityError, load_city
from hues.logs import REQUEST_ID_HEADER, logging_config
from hues.workhours import parse_working_hours

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean; anything but a clear yes or no is a configuration error."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean: use true or false.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from error


_RATE = re.compile(r"\d+/(s|sec|second|m|min|minute|h|hour|d|day)")


def env_rate(name: str, default: str) -> str:
    """A throttle rate such as 10/min or 20/hour."""
    value = os.environ.get(name, default).strip()
    if not _RATE.fullmatch(value):
        raise ImproperlyConfigured(f"{name}={value!r} is not a rate: use e.g. 10/min or 20/hour.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_mapping(name: str, default: str) -> dict[str, str]:
    """`key=value,key=value`: e.g. the field names of an SMS provider's API."""
    raw = os.environ.get(name, default)
    mapping: dict[str, str] = {}
    for item in raw.split(","):
        key, sep, value = item.strip().partition("=")
        if not item.strip():
            continue
        if not sep or not key.strip() or not value.strip():
            raise ImproperlyConfigured(f"{name}={raw!r}: use key=value pairs, comma-separated.")
        mapping[key.strip()] = value.strip()
    return mapping


_LIMIT = re.compile(r"(\d+)/(hour|day)")


def env_limits(name: str, default: str) -> dict[str, int]:
    """Hourly and daily limits such as `3/hour,10/day` ({"hour": 3, "day": 10}); a period
    left out has no limit."""
    raw = os.environ.get(name, default)
    limits: dict[str, int] = {}
    for item in raw.split(","):
        if not item.strip():
            continue
        match = _LIMIT.fullmatch(item.strip())
        if match is None or match.group(2) in limits:
            raise ImproperlyConfigured(f"{name}={raw!r}: use e.g. 3/hour,10/day.")
        limits[match.group(2)] = int(match.group(1))
    return limits


DEBUG = env_bool("DEBUG", default=False)

# The city this service runs for: cities/<CITY>/city.toml (hues.city) gives its names, time
# zone, reference prefix, office hours, boundaries and reference data.
CITY = os.environ.get("CITY", DEFAULT_CITY)
CITIES_DIR = BASE_DIR / "cities"
# The embedded default keeps each city in a database file of its own: one database serves one
# city, and switching CITY never mixes two cities' reference data.
EMBEDDED_DATABASE = "db.sqlite3" if CITY == DEFAULT_CITY else f"db-{CITY}.sqlite3"
try:
    CITY_DEFINITION = load_city(CITY, CITIES_DIR)
except CityError as error:
    raise ImproperlyConfigured(
        f"CITY={CITY!r}: {error} (run `manage.py check_city {CITY}`)."
    ) from error

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-dev-only-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # Our apps first: their templates and Vietnamese catalogues take priority over Django's.
    "accounts",
    "notifications",
    "reports",
    "insights",
    "open311",
    "alerts",
    "demo",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "django_guid",
]

MIDDLEWARE = [
    # The request id first, so that every log line of the request carries it.
    "django_guid.middleware.guid_middleware",
    "hues.middleware.RequestObservationMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "hues.middleware.ProbeMiddleware",
    "hues.middleware.BodySizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "hues.middleware.ContentSecurityPolicyMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "hues.urls"
WSGI_APPLICATION = "hues.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "hues" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def with_connection_options(database: dict[str, Any]) -> dict[str, Any]:
    """The options every connection shares: the primary's and each read replica's."""
    # A server database keeps its connections a minute (checked before reuse): opening one
    # per request costs more than the request. SQLite's file needs no connection kept.
    sqlite = database["ENGINE"] == "django.db.backends.sqlite3"
    database["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", 0 if sqlite else 60)
    database["CONN_HEALTH_CHECKS"] = True
    if database["ENGINE"] == "django.db.backends.sqlite3":
        # The embedded default serves several clients at once (runserver's threads): readers
        # never block the writer (WAL), a writer waits for another instead of failing
        # (timeout, seconds), and every transaction takes the write lock when it begins
        # (IMMEDIATE), so none fails with "database is locked" when it upgrades from reading
        # to writing.
        database.setdefault("OPTIONS", {}).update(
            {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            }
        )
    if database["ENGINE"] == "django.db.backends.postgresql":
        # PostgreSQL's JIT compiles the statistics' aggregates anew for every query, adding
        # 100-150 ms to each on a million reports and saving nothing on the API's short queries.
        database.setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
    return database


# Database: SQLite file by default; PostgreSQL in production and CI.
DATABASES: dict[str, dict[str, Any]] = {
    "default": with_connection_options(
        dict(env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / EMBEDDED_DATABASE}"))
    ),
}

# Read replicas of the primary (DATABASE_URL), comma-separated URLs: aliases replica_1,
# replica_2, ... with the primary's connection options, and a router (hues.db) that keeps
# writes, migrations and every read not sent to a replica on the primary. Only the public
# reads a replica's lag cannot mislead use one (hues.db.replica). Tests treat each as a
# mirror of the primary. None: no alias, no router.
DATABASE_REPLICA_URLS = env_list("DATABASE_REPLICA_URLS", [])
for _number, _url in enumerate(DATABASE_REPLICA_URLS, start=1):
    _replica: dict[str, Any] = dict(env.db_url_config(_url))
    if _replica.get("ENGINE") != DATABASES["default"]["ENGINE"]:
        # The URL itself may hold a password: name the replica by its place in the list.
        raise ImproperlyConfigured(
            f"DATABASE_REPLICA_URLS: URL {_number} is not a database URL of DATABASE_URL's "
            f"kind ({DATABASES['default']['ENGINE']})."
        )
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES[f"replica_{_number}"] = with_connection_options(_replica)
DATABASE_ROUTERS = ["hues.db.PrimaryReplicaRouter"] if DATABASE_REPLICA_URLS else []
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: process-local by default; Redis (redis://...) in production.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://hues")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache":
    # It holds the throttle and SMS limit counts: a burst must not cull them (Django's 300).
    CACHES["default"].setdefault("OPTIONS", {}).setdefault("MAX_ENTRIES", 20_000)
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # Redis down or paused: a cache miss after a half-second timeout, never a hung request
    # or a 500 (hues/cache.py says what that costs).
    CACHES["default"]["BACKEND"] = "hues.cache.ResilientRedisCache"
    CACHES["default"].setdefault("OPTIONS", {}).update(
        {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    )

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.PhoneBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("phone", "full_name", "email")},
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The proxies whose X-Forwarded-For names the client (hues.addresses): addresses, networks, and
# `unix` for a peer on a unix socket. By default the machine itself: nginx in front of a
# gunicorn bound to loopback. Anyone else who reaches the app is the client it counts.
if "NUM_PROXIES" in os.environ:
    raise ImproperlyConfigured(
        "NUM_PROXIES is retired: list the proxies in front of the app by address instead, "
        "e.g. TRUSTED_PROXIES=127.0.0.1,::1 for nginx on this machine, TRUSTED_PROXIES=unix "
        "for nginx on gunicorn's unix socket, TRUSTED_PROXIES=10.0.0.0/24 for a load "
        "balancer's network, or TRUSTED_PROXIES= for none; then remove NUM_PROXIES."
    )
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", ["127.0.0.1", "::1"])
try:
    parse_trusted_proxies(TRUSTED_PROXIES)
except TrustedProxiesInvalid as error:
    raise ImproperlyConfigured(f"TRUSTED_PROXIES: {error}.") from error

# Brute-force protection on logins (API and admin).
AXES_ENABLED = env_bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "phone"
AXES_USERNAME_CALLABLE = "accounts.backends.axes_username"
AXES_RESET_ON_SUCCESS = True
# Sign-ins per account (accounts.login_limits, API and admin): from the LOGIN_DELAY_AFTER-th
# wrong password of one client for one account, waits of 1, 2, 4 ... s (at most
# LOGIN_DELAY_MAX); LOGIN_ACCOUNT_FAILURE_LIMIT wrong passwords from anywhere within
# LOGIN_FAILURE_WINDOW lock the account for LOGIN_ACCOUNT_LOCK (doubled at each lock in a day)
# except from clients that signed in to it in the last LOGIN_KNOWN_CLIENT_DAYS; a password
# reset by texted code lifts the lock.
LOGIN_DELAY_AFTER = env_int("LOGIN_DELAY_AFTER", 3)
LOGIN_DELAY_MAX = env_int("LOGIN_DELAY_MAX", 60)
LOGIN_ACCOUNT_FAILURE_LIMIT = env_int("LOGIN_ACCOUNT_FAILURE_LIMIT", 20)
LOGIN_FAILURE_WINDOW = timedelta(minutes=15)
LOGIN_ACCOUNT_LOCK = timedelta(minutes=env_int("LOGIN_ACCOUNT_LOCK_MINUTES", 15))
LOGIN_KNOWN_CLIENT_DAYS = env_int("LOGIN_KNOWN_CLIENT_DAYS", 30)
# The client address as every limit sees it (hues.addresses, TRUSTED_PROXIES).
AXES_CLIENT_IP_CALLABLE = "hues.addresses.client_address"

# Languages: Vietnamese first, English second.
LANGUAGE_CODE = "vi"
# Each language is named in itself, as a language switch shows it.
LANGUAGES = [("vi", "Tiếng Việt"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "hues" / "locale"]
# Day-first date input in Vietnamese (hues/formats/vi).
FORMAT_MODULE_PATH = ["hues.formats"]
TIME_ZONE = CITY_DEFINITION.time_zone
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "hues" / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "var" / "static"))
MEDIA_URL = os.environ.get("MEDIA_URL", "/media/")
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))
# Photos are served only through signed URLs (reports.media): Django checks the signature,
# then sends the file itself or hands it to the web server (x-accel-redirect: nginx serves
# MEDIA_ACCEL_REDIRECT_PREFIX from MEDIA_ROOT as an internal location; x-sendfile).
MEDIA_SERVE = os.environ.get("MEDIA_SERVE", "django")
if MEDIA_SERVE not in ("django", "x-accel-redirect", "x-sendfile"):
    raise ImproperlyConfigured(
        f"MEDIA_SERVE={MEDIA_SERVE!r}: use django, x-accel-redirect or x-sendfile."
    )
MEDIA_ACCEL_REDIRECT_PREFIX = os.environ.get("MEDIA_ACCEL_REDIRECT_PREFIX", "/protected-media/")
# Photo URLs of private reports (and in the admin) work for one to two of these periods.
PHOTO_URL_MAX_AGE = env_int("PHOTO_URL_MAX_AGE", 3600)

# Where photo files live: MEDIA_ROOT on this machine (filesystem, the default), or an
# S3-compatible bucket (s3: AWS S3, MinIO, Ceph, or a Vietnamese provider's object storage,
# through django-storages) that every API machine shares. The bucket stays private: a
# signed photo URL of ours, once checked, redirects to a presigned URL of the bucket that
# works for PHOTO_STORAGE_URL_SECONDS (reports.media).
PHOTO_STORAGE = os.environ.get("PHOTO_STORAGE", "filesystem")
PHOTO_STORAGE_URL_SECONDS = env_int("PHOTO_STORAGE_URL_SECONDS", 300)
if PHOTO_STORAGE == "s3":
    if not os.environ.get("S3_BUCKET"):
        raise ImproperlyConfigured("PHOTO_STORAGE=s3 needs S3_BUCKET (and the bucket's access).")
    if MEDIA_SERVE != "django":
        raise ImproperlyConfigured(
            f"MEDIA_SERVE={MEDIA_SERVE!r} serves files from MEDIA_ROOT; with PHOTO_STORAGE=s3 "
            "photos are redirected to the bucket: leave MEDIA_SERVE unset."
        )
    STORAGES = {
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": os.environ["S3_BUCKET"],
                # For other providers than AWS (e.g. https://s3.example.vn); None for AWS.
                "endpoint_url": os.environ.get("S3_ENDPOINT_URL") or None,
                "region_name": os.environ.get("S3_REGION") or None,
                # Unset: boto3's own chain (AWS_* variables, the machine's role).
                "access_key": os.environ.get("S3_ACCESS_KEY_ID") or None,
                "secret_key": os.environ.get("S3_SECRET_ACCESS_KEY") or None,
                "location": os.environ.get("S3_PREFIX", ""),
                # "path" for MinIO and most providers other than AWS.
                "addressing_style": os.environ.get("S3_ADDRESSING_STYLE") or None,
                "signature_version": "s3v4",
                "default_acl": None,  # the bucket's own (private): no public objects
                "querystring_auth": True,
                "querystring_expire": PHOTO_STORAGE_URL_SECONDS,
                "file_overwrite": False,
                "object_parameters": {"ContentType": "image/jpeg"},
            },
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
elif PHOTO_STORAGE != "filesystem":
    raise ImproperlyConfigured(f"PHOTO_STORAGE={PHOTO_STORAGE!r}: use filesystem or s3.")

# The Content-Security-Policy of the admin and of the API's documentation pages
# (hues.middleware.ContentSecurityPolicyMiddleware): everything from this site, no inline
# script, no plugin, no framing. CSP_IMG_SOURCES: other origins the admin shows photos from,
# space-separated; with PHOTO_STORAGE=s3 the bucket's (a photo URL redirects there).
CSP_IMG_SOURCES = os.environ.get("CSP_IMG_SOURCES", "").strip() or (
    (
        "{0.scheme}://{0.netloc}".format(urlsplit(os.environ["S3_ENDPOINT_URL"]))
        if os.environ.get("S3_ENDPOINT_URL")
        else "https://*.amazonaws.com"
    )
    if PHOTO_STORAGE == "s3"
    else ""
)
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
_CSP_DOCS = f"{_CSP}; img-src 'self' data:; worker-src 'self' blob:"
CONTENT_SECURITY_POLICIES = {
    "/admin/": f"{_CSP}; img-src 'self' data: blob: {CSP_IMG_SOURCES}".rstrip(),
    "/api/docs/": _CSP_DOCS,
    "/api/redoc/": _CSP_DOCS,
}

DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# The request as a whole: five photos at their limit plus the form fields.
REQUEST_MAX_BODY_SIZE = env_int("REQUEST_MAX_BODY_SIZE", 5 * 15 * 1024 * 1024)

# Photos: limits on what a citizen may upload, and the sizes we keep.
PHOTO_MAX_BYTES = env_int("PHOTO_MAX_BYTES", 15 * 1024 * 1024)
PHOTO_MAX_PIXELS = env_int("PHOTO_MAX_PIXELS", 50_000_000)
# The memory reading one photo may take, estimated from its header before any decoding
# (reports.photos.decoding_bytes): a 24-megapixel HEIC from a phone needs 196 MB.
PHOTO_MAX_DECODING_BYTES = env_int("PHOTO_MAX_DECODING_BYTES", 192 * 1024 * 1024)
PHOTO_MAX_SIDE = env_int("PHOTO_MAX_SIDE", 1600)
PHOTO_THUMBNAIL_SIDE = env_int("PHOTO_THUMBNAIL_SIDE", 400)
PHOTO_MAX_PER_REPORT = 5
# Photo privacy (reports.privacy): the unobscured evidence copy of a photo is deleted this
# many days after its report is closed or rejected; 0 keeps none at all (deleted as soon
# as the obscured rendition exists).
PHOTO_ORIGINAL_RETENTION_DAYS = env_int("PHOTO_ORIGINAL_RETENTION_DAYS", 30)
if PHOTO_ORIGINAL_RETENTION_DAYS < 0:
    raise ImproperlyConfigured(
        f"PHOTO_ORIGINAL_RETENTION_DAYS={PHOTO_ORIGINAL_RETENTION_DAYS}: give 0 or more days."
    )
# Failed privacy steps are retried PHOTO_REDACTION_RETRY_BASE_SECONDS * 2**n later (at most
# 10 minutes); after PHOTO_REDACTION_MAX_ATTEMPTS the photo stays private, flagged for staff.
PHOTO_REDACTION_MAX_ATTEMPTS = env_int("PHOTO_REDACTION_MAX_ATTEMPTS", 6)
PHOTO_REDACTION_RETRY_BASE_SECONDS = 10
# Photos still waiting this long lost their task: the sweeper enqueues them again.
PHOTO_REDACTION_SWEEP_AFTER = timedelta(minutes=10)

# Reference data: the city's wards and communes (loaded by path, never copied); the city's
# definition names the file.
AREAS_GEOJSON = Path(os.environ.get("AREAS_GEOJSON", CITY_DEFINITION.boundaries))
# A point this close (degrees, ~100 m) to an area's boundary counts as inside it: the
# simplified polygons leave thin gaps between neighbours.
AREA_TOLERANCE_DEGREES = 0.001
REPORT_REFERENCE_PREFIX = os.environ.get(
    "REPORT_REFERENCE_PREFIX", CITY_DEFINITION.reference_prefix
)

# Office hours that resolution deadlines count (Vietnamese public offices), Monday to Friday
# in TIME_ZONE, public holidays (reports.Holiday) excepted: "HH:MM-HH:MM,HH:MM-HH:MM".
WORKING_HOURS = os.environ.get("WORKING_HOURS", CITY_DEFINITION.working_hours)
try:
    parse_working_hours(WORKING_HOURS)
except ValueError as error:
    raise ImproperlyConfigured(f"WORKING_HOURS={WORKING_HOURS!r}: {error}") from error

# SMS (accounts.sms, accounts.texts): how a text leaves. console (prints at once), file (one
# file per message in SMS_FILE_DIR), locmem (tests), kannel (Kannel's smsbox, sendsms), http (a
# provider's own HTTP API), or a dotted path to a backend class.
SMS_BACKEND = os.environ.get("SMS_BACKEND", "console" if DEBUG else "file")
SMS_FILE_DIR = Path(os.environ.get("SMS_FILE_DIR", BASE_DIR / "var" / "sms"))
# The brandname texts come from (Kannel's `from`; the carrier must have registered it).
SMS_SENDER = os.environ.get("SMS_SENDER", CITY_DEFINITION.app_name)
# Where the gateway reaches this service with delivery reports (e.g. http://10.0.0.5:8000);
# empty: none are asked for, and a text stays "sent".
SMS_STATUS_BASE_URL = os.environ.get("SMS_STATUS_BASE_URL", "").rstrip("/")
# Seconds to wait for the gateway's answer; a timeout is a transient failure (retried).
SMS_GATEWAY_TIMEOUT = env_int("SMS_GATEWAY_TIMEOUT", 10)
# A transient failure is retried after this many seconds, doubling each time (at most 5
# minutes), for as long as the text is worth sending: a code's lifetime.
SMS_RETRY_BASE_SECONDS = env_int("SMS_RETRY_BASE_SECONDS", 5)
KANNEL_SENDSMS_URL = os.environ.get("KANNEL_SENDSMS_URL", "http://127.0.0.1:13013/cgi-bin/sendsms")
KANNEL_USERNAME = os.environ.get("KANNEL_USERNAME", "")
KANNEL_PASSWORD = os.environ.get("KANNEL_PASSWORD", "")
# The smsc-id of the carrier connection to use (empty: Kannel's routing decides).
KANNEL_SMSC = os.environ.get("KANNEL_SMSC", "")
if SMS_BACKEND == "kannel" and not (KANNEL_USERNAME and KANNEL_PASSWORD):
    raise ImproperlyConfigured(
        "SMS_BACKEND=kannel needs KANNEL_USERNAME and KANNEL_PASSWORD (a sendsms-user)."
    )
# A provider's own HTTP API (SMS_BACKEND=http): where, how, which field holds what, and how
# to sign in ("basic:user:password", "bearer:token", "header:Name:value" or empty).
SMS_HTTP_URL = os.environ.get("SMS_HTTP_URL", "")
SMS_HTTP_METHOD = os.environ.get("SMS_HTTP_METHOD", "POST").upper()
SMS_HTTP_FORMAT = os.environ.get("SMS_HTTP_FORMAT", "json")
SMS_HTTP_FIELDS = env_mapping("SMS_HTTP_FIELDS", "to=to,text=text,from=from")
SMS_HTTP_AUTH = os.environ.get("SMS_HTTP_AUTH", "")
# The field of the provider's JSON answer that holds its message id (dots for nesting).
SMS_HTTP_ID_FIELD = os.environ.get("SMS_HTTP_ID_FIELD", "")
if SMS_BACKEND == "http":
    if not SMS_HTTP_URL.startswith(("http://", "https://")):
        raise ImproperlyConfigured("SMS_BACKEND=http needs SMS_HTTP_URL (http:// or https://).")
    if SMS_HTTP_METHOD not in ("GET", "POST"):
        raise ImproperlyConfigured(f"SMS_HTTP_METHOD={SMS_HTTP_METHOD!r}: use GET or POST.")
    if SMS_HTTP_FORMAT not in ("json", "form"):
        raise ImproperlyConfigured(f"SMS_HTTP_FORMAT={SMS_HTTP_FORMAT!r}: use json or form.")
    if not {"to", "text"} <= SMS_HTTP_FIELDS.keys():
        raise ImproperlyConfigured("SMS_HTTP_FIELDS must name the fields for to and text.")
    if SMS_HTTP_AUTH and SMS_HTTP_AUTH.split(":", 1)[0] not in ("basic", "bearer", "header"):
        raise ImproperlyConfigured(
            "SMS_HTTP_AUTH: use basic:user:password, bearer:token or header:Name:value."
        )

# What texts may cost (accounts.sms_limits): only numbers of these countries (ISO 3166 codes)
# get a text; each number, each number block (the first SMS_PREFIX_DIGITS digits) and each
# client address may cause only so many texts an hour and a day; all texts together stop at
# the hourly and daily budgets (operators are alerted). Counted in the cache (Redis).
SMS_ALLOWED_COUNTRIES = [code.upper() for code in env_list("SMS_ALLOWED_COUNTRIES", ["VN"])]
SMS_LIMIT_PER_NUMBER = env_limits("SMS_LIMIT_PER_NUMBER", "3/hour,10/day")
SMS_LIMIT_PER_PREFIX = env_limits("SMS_LIMIT_PER_PREFIX", "30/hour,200/day")
SMS_LIMIT_PER_CLIENT = env_limits("SMS_LIMIT_PER_CLIENT", "20/hour,100/day")
SMS_PREFIX_DIGITS = env_int("SMS_PREFIX_DIGITS", 7)
SMS_HOURLY_BUDGET = env_int("SMS_HOURLY_BUDGET", 300)
SMS_DAILY_BUDGET = env_int("SMS_DAILY_BUDGET", 2000)

# One-time codes (accounts.codes): valid this long; each client address gets this many wrong
# tries per code, all of them together VERIFICATION_CODE_MAX_WRONG (the address that asked for
# the code keeps its own tries); a new code at most once per interval.
VERIFICATION_CODE_TTL = timedelta(minutes=10)
VERIFICATION_CODE_MAX_ATTEMPTS = 5
VERIFICATION_CODE_MAX_WRONG = 10
VERIFICATION_CODE_RESEND_INTERVAL = timedelta(seconds=60)

# Notifications: always the in-app inbox; push through PUSH_BACKEND (log, locmem, fcm or a
# dotted path); an SMS only for a report's result (resolved, rejected) to its reporter; email
# when enabled and the user gave an address. Sent by tasks, never in a request.
PUSH_BACKEND = os.environ.get("PUSH_BACKEND", "log")
FCM_CREDENTIALS_FILE = os.environ.get("FCM_CREDENTIALS_FILE", "")
FCM_PROJECT_ID = os.environ.get("FCM_PROJECT_ID", "")
if PUSH_BACKEND == "fcm" and not FCM_CREDENTIALS_FILE:
    raise ImproperlyConfigured(
        "PUSH_BACKEND=fcm needs FCM_CREDENTIALS_FILE (a service-account key)."
    )
NOTIFICATION_SMS_ENABLED = env_bool("NOTIFICATION_SMS_ENABLED", default=True)
NOTIFICATION_EMAIL_ENABLED = env_bool("NOTIFICATION_EMAIL_ENABLED", default=False)
# e.g. smtp+tls://user:password@smtp.example.vn:587; the console with DEBUG.
vars().update(
    env.email_url("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25")
)
DEFAULT_FROM_EMAIL = os.environ.get(
    "DEFAULT_FROM_EMAIL", f"{CITY_DEFINITION.app_name} <no-reply@localhost>"
)
# Deliveries never tried after this long (a lost message) are re-enqueued by the sweeper.
DELIVERY_SWEEP_AFTER = timedelta(minutes=5)
# Alerts: a citizen is told of an alert for their home area or for an area where they filed a
# report in the last ALERT_RECENT_REPORT_DAYS days; sent ALERT_BATCH_SIZE citizens per task;
# a sending with no progress for ALERT_SWEEP_AFTER is re-driven by the sweeper.
ALERT_RECENT_REPORT_DAYS = env_int("ALERT_RECENT_REPORT_DAYS", 30)
ALERT_BATCH_SIZE = env_int("ALERT_BATCH_SIZE", 500)
ALERT_SWEEP_AFTER = timedelta(minutes=15)
# Events not marked notified after this long lost their `reports.notify` task; the sweeper
# enqueues them again, for events up to NOTIFY_SWEEP_WINDOW old.
NOTIFY_SWEEP_AFTER = timedelta(minutes=2)
NOTIFY_SWEEP_WINDOW = timedelta(days=1)

# Demo data: users with a known password exist only while DEBUG is on.
DEMO_USERS_ENABLED = DEBUG
# ...and a living demo: this many reports of the last 30 days, worked to every state
# (`seed_demo --reports N` overrides; 0 for none).
DEMO_REPORTS = env_int("DEMO_REPORTS", 300)

# Celery: with no broker the tasks run eagerly, in the web process, after commit.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# A lost worker must not lose a task: acknowledge after the work, requeue on worker loss.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Two queues: "celery" (routing, notifications, texts, alerts, the daily figures) and
# "photos" (the privacy step of each photo, reports.redact_photo: a few hundred milliseconds
# of CPU a photo). A plain `celery worker` consumes both, taking turns, so routing waits behind
# at most one photo; a deployment with a photo load gives the photos workers of their own
# (`-Q photos`, README "The processes") so routing and texts never wait behind one.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = (Queue("celery"), Queue("photos"))
CELERY_TASK_ROUTES = {"reports.redact_photo": {"queue": "photos"}}
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
# A request never hangs on the broker: short connect and socket timeouts and no publish
# retry (kombu's retry reconnects for up to 9 s against a paused Redis); after a failed
# publish, hues.scheduling skips the broker for a few seconds. The report row is the outbox
# and the sweepers re-drive what was not enqueued (tests/fault measures it).
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY = False
# Redis redelivers a message not acknowledged within visibility_timeout: it must exceed the
# longest task (CELERY_TASK_TIME_LIMIT) and the longest retry countdown (deliveries: 30 min).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "socket_timeout": 0.5,
    "socket_connect_timeout": 0.5,
    # A publisher reconnecting to a broker that is away gives up after a second (kombu
    # would otherwise retry every 2 s for broker_connection_timeout).
    "connect_retries_timeout": 1,
    "interval_start": 0,
    "interval_step": 0.25,
    "interval_max": 0.5,
}
CELERY_BEAT_SCHEDULE = {
    "reports-sweep-unrouted": {"task": "reports.sweep_unrouted", "schedule": 60.0},
    "reports-escalate-overdue": {"task": "reports.escalate_overdue", "schedule": 300.0},
    "reports-close-unanswered": {"task": "reports.close_unanswered", "schedule": 3600.0},
    "notifications-sweep-deliveries": {
        "task": "notifications.sweep_deliveries",
        "schedule": 300.0,
    },
    "accounts-sweep-texts": {"task": "accounts.sweep_texts", "schedule": 60.0},
    "reports-sweep-unnotified": {"task": "reports.sweep_unnotified", "schedule": 60.0},
    "alerts-sweep-publishing": {"task": "alerts.sweep_publishing", "schedule": 300.0},
    "reports-sweep-unredacted-photos": {
        "task": "reports.sweep_unredacted_photos",
        "schedule": 300.0,
    },
    "reports-purge-photo-originals": {
        "task": "reports.purge_photo_originals",
        "schedule": 3600.0,
    },
    "reports-purge-idempotency-keys": {
        "task": "reports.purge_idempotency_keys",
        "schedule": 3600.0,
    },
    # The statistics' daily figures: the days changed reports touch, every minute; all of
    # them at 03:00 in the city's time (insights.rollup).
    "insights-refresh-daily-figures": {
        "task": "insights.refresh_daily_figures",
        "schedule": 60.0,
    },
    "insights-rebuild-daily-figures": {
        "task": "insights.rebuild_daily_figures",
        "schedule": crontab(hour=3, minute=0),
    },
}
# Reports left unrouted for longer than this are re-driven by the sweeper.
ROUTING_SWEEP_AFTER = timedelta(minutes=2)
# Anonymous first pages of the feed are kept in the cache this long (seconds; 0: never),
# and dropped at once when a report, photo, supporter or reference data changes.
FEED_CACHE_SECONDS = env_int("FEED_CACHE_SECONDS", 15)
# A report's detail (anonymous, when FEED_CACHE_SECONDS is on): its own version drops it at
# any change of the report, its photos, timeline or supporters, so it can live longer.
DETAIL_CACHE_SECONDS = env_int("DETAIL_CACHE_SECONDS", 300)
# After this many failed routing attempts a report goes to the dispatchers' triage queue;
# retries wait ROUTING_RETRY_BASE_SECONDS * 2**n (at most 10 minutes).
ROUTING_MAX_ATTEMPTS = env_int("ROUTING_MAX_ATTEMPTS", 6)
ROUTING_RETRY_BASE_SECONDS = 5
# Reports one routing pass takes in a worker: its own and up to this many minus one others
# waiting and never tried (reports.services.report_route_attempt).
ROUTING_BATCH_SIZE = env_int("ROUTING_BATCH_SIZE", 200)
# Open flags from different citizens that hide a public report until a moderator decides.
FLAG_HIDE_THRESHOLD = env_int("FLAG_HIDE_THRESHOLD", 3)
# The public statistics (GET /api/v1/stats) are served from the cache for this long.
STATS_CACHE_SECONDS = env_int("STATS_CACHE_SECONDS", 300)
# The public statistics withhold every count below this (insights.disclosure): they count
# private reports too. 1: withhold nothing.
STATS_MIN_COUNT = env_int("STATS_MIN_COUNT", 5)
# The dashboard's figures are counted once per viewer scope and filters for this long.
DASHBOARD_CACHE_SECONDS = env_int("DASHBOARD_CACHE_SECONDS", 60)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # simplejwt's, refusing the tokens of ended sessions at once.
        "accounts.tokens.SessionJWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "hues.api_schema.AutoSchema",
    "DEFAULT_PARSER_CLASSES": [
        "hues.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_METADATA_CLASS": "hues.metadata.Metadata",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "EXCEPTION_HANDLER": "hues.api_errors.exception_handler",
    # One count per request: a signed-in user's under `user`, else the address's under `anon`.
    "DEFAULT_THROTTLE_CLASSES": ["hues.throttling.RequesterThrottle"],
    # Per user or phone number, and per client address (hues.throttling); with DEBUG on, high
    # enough for a test client filing 100 reports a minute.
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_rate("THROTTLE_ANON", "6000/min" if DEBUG else "120/min"),
        # Anonymous reads the cache answers (the feed's first pages, a report), per address:
        # one carrier-grade NAT address carries many phones (hues.throttling).
        "anon_read": env_rate("THROTTLE_ANON_READ", "6000/min" if DEBUG else "1200/min"),
        "user": env_rate("THROTTLE_USER", "6000/min" if DEBUG else "240/min"),
        "auth": env_rate("THROTTLE_AUTH", "600/min" if DEBUG else "10/min"),
        "auth_ip": env_rate("THROTTLE_AUTH_IP", "6000/min" if DEBUG else "60/min"),
        "login_ip": env_rate("THROTTLE_LOGIN_IP", "6000/min" if DEBUG else "60/min"),
        "register": env_rate("THROTTLE_REGISTER", "600/min" if DEBUG else "5/hour"),
        "register_ip": env_rate("THROTTLE_REGISTER_IP", "6000/min" if DEBUG else "30/hour"),
        "code_send": env_rate("THROTTLE_CODE_SEND", "600/min" if DEBUG else "5/hour"),
        "code_send_ip": env_rate("THROTTLE_CODE_SEND_IP", "6000/min" if DEBUG else "30/hour"),
        "report_create": env_rate("THROTTLE_REPORT_CREATE", "600/min" if DEBUG else "20/hour"),
        # Citizens flagging reports and comments for moderation, per user.
        "flag": env_rate("THROTTLE_FLAG", "600/min" if DEBUG else "30/hour"),
        # Per address: a backstop against many accounts filing from one machine, high enough
        # for a carrier-grade NAT's worth of citizens (50 at their full per-user rate).
        "report_create_ip": env_rate(
            "THROTTLE_REPORT_CREATE_IP", "6000/min" if DEBUG else "1000/hour"
        ),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 30)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "USER_ID_FIELD": "id",
    "AUTH_HEADER_TYPES": ("Bearer",),
}

SPECTACULAR_SETTINGS = {
    "TITLE": f"{CITY_DEFINITION.app_name} citizen feedback API",
    "DESCRIPTION": f"REST API of the {CITY_DEFINITION.app_name} citizen feedback service "
    "(mobile app).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {"ReportStatusEnum": "reports.models.ReportStatus"},
}

# Logs (hues.logs): one line per request and per task, with the request id, secrets masked;
# as JSON lines in production, as text for a person at `bin/serve`.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "console" if DEBUG else "json")
if LOG_FORMAT not in ("json", "console"):
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r}: use json or console.")
LOGGING = logging_config(log_format=LOG_FORMAT, level=os.environ.get("LOG_LEVEL", "INFO"))
# The request id: a well-formed X-Request-ID (a UUID) is kept, anything else replaced by a new
# one; sent back in the answer and carried into the request's tasks (django-guid, hues.celery).
DJANGO_GUID = {
    "GUID_HEADER_NAME": REQUEST_ID_HEADER,
    "VALIDATE_GUID": True,
    "RETURN_HEADER": True,
    "EXPOSE_HEADER": False,
    "UUID_FORMAT": "string",
}
# A worker logs through LOGGING too (hues.celery), not through a root logger of Celery's.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Metrics (hues.metrics): /metrics answers only requests carrying this bearer token; unset,
# only requests made on this machine straight to the server.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
# A Celery worker serves its own processes' metrics on this host:port (empty: it does not).
WORKER_METRICS_ADDRESS = os.environ.get("WORKER_METRICS_ADDRESS", "")
_HOST_PORT = re.compile(r"(\[[0-9a-fA-F:]+\]|[\w.-]+):\d{1,5}")
if WORKER_METRICS_ADDRESS and not _HOST_PORT.fullmatch(WORKER_METRICS_ADDRESS):
    raise ImproperlyConfigured(
        f"WORKER_METRICS_ADDRESS={WORKER_METRICS_ADDRESS!r}: use host:port, e.g. 127.0.0.1:9808."
    )
# Health (hues.health): the dependencies whose failure makes /health/ready answer 503.
READINESS_CHECKS = env_list("READINESS_CHECKS", ["database", "cache", "broker"])
if not set(READINESS_CHECKS) <= {"database", "cache", "broker"}:
    raise ImproperlyConfigured(
        f"READINESS_CHECKS={','.join(READINESS_CHECKS)!r}: name database, cache or broker."
    )

# Security headers on every answer (Django's SecurityMiddleware and XFrameOptionsMiddleware).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    # Behind a TLS-terminating proxy: the header it sets on HTTPS requests ("" to trust none).
    _proxy_header = os.environ.get("SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto")
    if _proxy_header:
        SECURE_PROXY_SSL_HEADER = (
            "HTTP_" + _proxy_header.strip().upper().replace("-", "_"),
            "https",
        )
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    # Load balancers probe the health endpoints, and Prometheus scrapes, over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^api/v1/health$", r"^health/(live|ready)$", r"^metrics$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)
