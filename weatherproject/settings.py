"""Settings, all read from the environment (12-factor) with safe development defaults.

Production is whatever runs with ``DJANGO_DEBUG`` off: then ``DJANGO_SECRET_KEY`` is
required and the HTTPS settings are on unless explicitly turned off. Every variable
is declared in ``weatherproject/environment.py``.
"""

import ipaddress
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
import django_stubs_ext
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key

from weatherproject import environment
from weatherproject.environment import Variable

# Lets admin classes and querysets be written generic (ModelAdmin[Place]) for mypy.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent


def _declared(name: str) -> Variable:
    """``name``'s declaration. Reading a variable nobody declared is a mistake caught at
    start, so the manual (generated from the declarations) never misses one."""
    try:
        return environment.declared(name)
    except KeyError:
        raise ImproperlyConfigured(
            f"{name} is read but not declared in weatherproject/environment.py"
        ) from None


def env_str(name: str, default: str | None = None) -> str:
    """``name``'s value; unset, ``default`` or else the declared default."""
    fallback = _declared(name).default if default is None else default
    return os.environ.get(name, fallback).strip()


def env_bool(name: str, default: bool | None = None) -> bool:
    if default is None:
        default = _declared(name).default == "1"
    else:
        _declared(name)
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {raw!r}")


def env_number(name: str, default: float | None = None, *, minimum: float = 0) -> float:
    if default is None:
        default = float(_declared(name).default)
    else:
        _declared(name)
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {raw!r}")
    return value


def env_secret(name: str) -> str:
    """``name``'s value, or the contents of the file ``name_FILE`` names: the convention
    of the official database images, so a secret can come from a mounted file (compose
    secrets, Kubernetes Secret volumes) and stay out of the environment."""
    path = env_str(f"{name}_FILE")
    if not path:
        return env_str(name)
    _declared(name)
    try:
        return Path(path).read_text().strip()
    except OSError as error:
        raise ImproperlyConfigured(
            f"{name}_FILE: cannot read {path!r} ({error.strerror})"
        ) from None


def env_list(name: str, default: str | None = None) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG")
# Error reports (the DEBUG page included) with the API key masked: weather/redaction.py.
DEFAULT_EXCEPTION_REPORTER = "weather.redaction.MaskingExceptionReporter"

SECRET_KEY = env_secret("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY (or DJANGO_SECRET_KEY_FILE) is required when DJANGO_DEBUG "
            "is off (production). "
            "Set it to a long random string, e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`."
        )
    # A fresh key per process is fine in development: sessions just don't survive restarts.
    SECRET_KEY = get_random_secret_key()

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "weather",
]

MIDDLEWARE = [
    # Outermost: every log line of the request, the others' included, carries its ID.
    "weather.middleware.RequestIdMiddleware",
    "weather.middleware.RequestMetricsMiddleware",
    # /metrics is answered here, before the host check: Prometheus asks by pod address.
    "weather.middleware.MetricsEndpointMiddleware",
    # Then: X-Forwarded-Proto is believed only from WEATHER_TRUSTED_PROXIES.
    "weather.middleware.TrustedProxyMiddleware",
    # A fresh public answer the chain below made once is served again from here, with
    # the headers it added; its view's counts still happen (weather/response_cache.py).
    "weather.middleware.ResponseCacheMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Directly after SecurityMiddleware, as whitenoise documents, so static files
    # skip the rest of the stack but still get the security headers.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Ahead of everything that can answer a page early (static files need no policy).
    "weather.content_policy.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language of the address (/de/...), where Django's LocaleMiddleware would go;
    # not that one, which reads cookies and Accept-Language (weather/languages.py).
    "weather.languages.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "weather.middleware.DatabaseUnavailableMiddleware",
    # Last, as django-axes documents: it turns a login flagged as locked out into
    # the lockout page on the way back.
    "axes.middleware.AxesMiddleware",
]

# django-axes refuses a locked-out login before any password is checked; the model
# backend then does the real authentication.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "weatherproject.urls"
WSGI_APPLICATION = "weatherproject.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "weather.context_processors.demo_mode",
                "weather.context_processors.languages",
            ],
        },
    },
]

_SQLITE_DEFAULT = f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
DATABASES = {
    # Declared as sqlite:///db.sqlite3, which is made absolute here: the file is the
    # project's wherever the process starts. Set but empty counts as unset.
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", _SQLITE_DEFAULT) or _SQLITE_DEFAULT,
        conn_max_age=int(env_number("DATABASE_CONN_MAX_AGE")),
        conn_health_checks=True,
    )
}
# The password may come from a file instead of the URL (DATABASE_PASSWORD_FILE).
if _database_password := env_secret("DATABASE_PASSWORD"):
    DATABASES["default"]["PASSWORD"] = _database_password
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A new connection per request costs little for a local file while another one holds
    # it open (weather/sqlite_anchor.py), and no request keeps a handle past its end.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # Several gunicorn workers share one file: wait for a lock instead of
            # failing at once, and take the write lock when a transaction starts
            # so two writers never deadlock upgrading read locks.
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# The dashboard's languages, each named in itself (the picker shows them so). A page's
# language is its address's prefix (/de/...; English has none): weather/languages.py.
LANGUAGES = [
    ("en", "English"),
    ("de", "Deutsch"),
    ("fr", "Français"),
    ("es", "Español"),
    ("pt", "Português"),
    ("ja", "日本語"),
    ("ar", "العربية"),
]
# Compiled catalogs are committed (make messages), so nothing needs gettext at run time.
LOCALE_PATHS = [BASE_DIR / "weather" / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT") or BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Security: on by default in production, each switch overridable -------------
# Believed only when the peer is a trusted proxy (weather.middleware.TrustedProxyMiddleware).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Addresses or networks of the proxies in front of the app (load balancer, ingress);
# only their X-Forwarded-For and X-Forwarded-Proto are believed. Empty: none.
WEATHER_TRUSTED_PROXIES = env_list("WEATHER_TRUSTED_PROXIES")
for _network in WEATHER_TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"WEATHER_TRUSTED_PROXIES: {_network!r} is not an address or a network"
        ) from None
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
# Orchestrator probes speak plain HTTP inside the cluster.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = int(env_number("DJANGO_SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("DJANGO_CSRF_COOKIE_SECURE", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Everything the pages load comes from this origin, and nothing runs or styles inline:
# no <script> or <style> blocks, no style="" or on*="" attributes (templates keep to it).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

ADMIN_URL = env_str("DJANGO_ADMIN_URL").strip("/") + "/"

# --- Admin login throttling (django-axes) --------------------------------------------
# Failed logins are counted in the database, so every worker and every replica sees the
# same count, as with the upstream budget and the cache.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = int(env_number("AXES_FAILURE_LIMIT", minimum=1))
# A lockout ends this long after the last failed attempt; trying again meanwhile
# starts it over (axes's AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT default).
AXES_COOLOFF_TIME = timedelta(minutes=env_number("AXES_COOLOFF_MINUTES", minimum=1))
# Locked is the pair (username, client address), not either alone: by username alone,
# anyone anywhere could lock the operators out by mistyping their name on purpose;
# by address alone, one office behind NAT would lock out everyone in it. The pair
# stops guessing one account from one place and leaves the real operator, elsewhere,
# able to log in. (Spraying many usernames from one address is not what this stops.)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The operator's own typos are forgotten once they get in.
AXES_RESET_ON_SUCCESS = True
# The client as the rest of the app knows it: the TCP peer, or behind
# WEATHER_TRUSTED_PROXIES the hop before them; X-Forwarded-For from anyone else is
# ignored, or an attacker could pick a fresh "address" per try.
AXES_CLIENT_IP_CALLABLE = "weather.client_ip.client_address"
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
# 429 Too Many Requests, axes's default, said here because the page and tests rely on it.
AXES_HTTP_RESPONSE_CODE = 429
# Every failure is kept (with whether it was locked out) for the admin's "Access
# failures" list; "Access attempts" holds only the live counts, dropped after the cool-off.
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# The log names the client address, which operators need to act on; the username stays
# masked, as people sometimes type their password into that box.
AXES_SENSITIVE_PARAMETERS = ["username"]

# --- Logs and metrics (docs/reference/metrics-and-logs.md) --------------------------
# json: one JSON object per line (weather/jsonlog.py), for production's log pipeline;
# text: one readable line, for a person at a terminal (the default with DEBUG on).
WEATHER_LOG_FORMAT = env_str("WEATHER_LOG_FORMAT", "text" if DEBUG else "json").lower()
if WEATHER_LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(
        f"WEATHER_LOG_FORMAT must be json or text, not {WEATHER_LOG_FORMAT!r}"
    )
_LOG_LEVEL = env_str("DJANGO_LOG_LEVEL").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        # Every line made while a request is handled carries its ID (weather/request_id.py).
        "request_id": {"()": "weather.request_id.RequestIdFilter"},
    },
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "weather.jsonlog.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": WEATHER_LOG_FORMAT,
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["console"], "level": _LOG_LEVEL},
    # gunicorn's workers log through the same handler (access lines carry the request's
    # ID: weatherproject/gunicorn_config.py), not through gunicorn's plain-text ones.
    "loggers": {
        name: {"handlers": ["console"], "level": "INFO", "propagate": False}
        for name in ("gunicorn.access", "gunicorn.error")
    },
}

# Error tracking (weather/error_tracking.py): off unless a Sentry DSN is given.
SENTRY_DSN = env_secret("SENTRY_DSN")
SENTRY_ENVIRONMENT = env_str("SENTRY_ENVIRONMENT")
SENTRY_RELEASE = env_str("SENTRY_RELEASE")
# Off: nothing is counted and /metrics is a 404 (make bench measures what counting costs).
WEATHER_METRICS = env_bool("WEATHER_METRICS")
# Networks whose direct requests may read /metrics (Prometheus' addresses); anyone else,
# and any request a proxy forwarded, gets a 404. Loopback only by default.
WEATHER_METRICS_ALLOWED = env_list("WEATHER_METRICS_ALLOWED")
for _network in WEATHER_METRICS_ALLOWED:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"WEATHER_METRICS_ALLOWED: {_network!r} is not an address or a network"
        ) from None

# --- Vault: where the OpenWeather key lives ----------------------------------------
VAULT_ADDR = env_str("VAULT_ADDR")
VAULT_TOKEN = env_str("VAULT_TOKEN")
VAULT_TOKEN_FILE = env_str("VAULT_TOKEN_FILE")
VAULT_ROLE_ID = env_str("VAULT_ROLE_ID")
VAULT_SECRET_ID = env_str("VAULT_SECRET_ID")
VAULT_SECRET_ID_FILE = env_str("VAULT_SECRET_ID_FILE")
VAULT_APPROLE_MOUNT = env_str("VAULT_APPROLE_MOUNT")
# Vault's kubernetes auth method: the role bound to the pod's service account, the
# projected token it logs in with (deploy/kubernetes/ mounts it here), the mount path.
VAULT_K8S_ROLE = env_str("VAULT_K8S_ROLE")
VAULT_K8S_TOKEN_PATH = env_str("VAULT_K8S_TOKEN_PATH")
VAULT_K8S_MOUNT = env_str("VAULT_K8S_MOUNT")
VAULT_KV_MOUNT = env_str("VAULT_KV_MOUNT")
VAULT_SECRET_PATH = env_str("VAULT_SECRET_PATH")
VAULT_SECRET_KEY = env_str("VAULT_SECRET_KEY")
VAULT_CACERT = env_str("VAULT_CACERT")
VAULT_TIMEOUT = env_number("VAULT_TIMEOUT", minimum=0.1)
VAULT_KEY_TTL = env_number("VAULT_KEY_TTL")
# After a failed read, Vault is left alone for up to this many seconds (doubling with
# each failure in a row, up to the maximum, with jitter): a dead Vault costs each
# worker one connection per window, not one per request. 0 retries at once.
VAULT_RETRY_BACKOFF = env_number("VAULT_RETRY_BACKOFF")
VAULT_RETRY_BACKOFF_MAX = env_number("VAULT_RETRY_BACKOFF_MAX")
# /readyz says only ready or not; on, it also names each check and the failing one's
# error class, for orchestrators on a private network. Always in the log either way.
WEATHER_READYZ_DETAILS = env_bool("WEATHER_READYZ_DETAILS")

# --- OpenWeather and the cache -----------------------------------------------------
OPENWEATHER_BASE_URL = env_str("OPENWEATHER_BASE_URL")
OPENWEATHER_CONNECT_TIMEOUT = env_number("OPENWEATHER_CONNECT_TIMEOUT", minimum=0.1)
OPENWEATHER_READ_TIMEOUT = env_number("OPENWEATHER_READ_TIMEOUT", minimum=0.1)
# The largest answer read (decompressed); a real forecast is about 16 kB.
OPENWEATHER_MAX_BYTES = int(env_number("OPENWEATHER_MAX_BYTES", minimum=65536))
# OpenWeather's models update about every 10 minutes; asking more often buys nothing.
WEATHER_CACHE_TTL = env_number("WEATHER_CACHE_TTL")
# Places do not move: a geocoding answer is good for a week.
WEATHER_GEOCODE_TTL = env_number("WEATHER_GEOCODE_TTL")
# A query that matched nothing is remembered briefly so typos don't cost upstream calls.
WEATHER_NEGATIVE_TTL = env_number("WEATHER_NEGATIVE_TTL")
# When the upstream or Vault fails, a stored payload up to this old is served, marked stale.
WEATHER_STALE_MAX = env_number("WEATHER_STALE_MAX")
# OpenWeather models air pollution hourly: asking more often than every half hour
# returns the same hour's numbers and spends the budget for nothing.
WEATHER_AIR_TTL = env_number("WEATHER_AIR_TTL")
# Air is hourly and changes within hours: past three, an old index says more about then
# than about now, so the section says "unavailable" instead.
WEATHER_AIR_STALE_MAX = env_number("WEATHER_AIR_STALE_MAX")
# The free tier's limits; every worker shares them through the database.
WEATHER_BUDGET_PER_MINUTE = int(env_number("WEATHER_BUDGET_PER_MINUTE"))
WEATHER_BUDGET_PER_DAY = int(env_number("WEATHER_BUDGET_PER_DAY"))
# One client's share of those caps (its address, or its IPv6 /64): a tenth of the day.
WEATHER_CLIENT_BUDGET_PER_MINUTE = int(env_number("WEATHER_CLIENT_BUDGET_PER_MINUTE"))
WEATHER_CLIENT_BUDGET_PER_DAY = int(env_number("WEATHER_CLIENT_BUDGET_PER_DAY"))
# The part of the caps that only refreshes of places already looked at may spend, so
# that spending on new places can never stop known places being kept fresh.
WEATHER_BUDGET_RESERVED_FOR_REFRESH = env_number("WEATHER_BUDGET_RESERVED_FOR_REFRESH")
if WEATHER_BUDGET_RESERVED_FOR_REFRESH > 1:
    raise ImproperlyConfigured("WEATHER_BUDGET_RESERVED_FOR_REFRESH is a share: 0 to 1")
# Most time one request may spend on the upstream (fetching, or waiting for the one
# request that fetches), so a slow upstream cannot hold a worker past gunicorn's timeout.
WEATHER_REQUEST_BUDGET = env_number("WEATHER_REQUEST_BUDGET", minimum=0.5)
# With a stale copy at hand, how long to wait for another request's refresh before
# serving the copy.
WEATHER_REFRESH_WAIT = env_number("WEATHER_REFRESH_WAIT")
# Each process re-serves a report for this long without asking the database
# (never past its expiry); an operator's "expire now" shows within this time.
WEATHER_MEMO_SECONDS = env_number("WEATHER_MEMO_SECONDS")
# Cache-hit counters are summed in memory and written at most this often (weather/hit_counts.py).
WEATHER_HIT_FLUSH_SECONDS = env_number("WEATHER_HIT_FLUSH_SECONDS")
# Set by `make run` when it serves the bundled fake upstream: the page says so.
WEATHER_DEMO_MODE = env_bool("WEATHER_DEMO_MODE")
