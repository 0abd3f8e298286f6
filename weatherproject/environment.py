"""Every environment variable the project reads, declared once: name, type, default, meaning.

``weatherproject/settings.py`` reads the app's variables through this declaration (its
``env_*`` helpers refuse an undeclared name, and take the default from here), the
manual's settings page is generated from it (``docs/hooks/reference.py``), and
``tests/unit/test_environment.py`` checks it against ``.env.example`` and against what
``settings.py``, ``docker/``, ``compose*.yaml``, ``deploy/``, the gunicorn config and
``scripts/devstack.py`` actually read, both ways. Nothing here imports Django: settings
import it before Django is configured.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Literal

Kind = Literal["text", "boolean", "number", "integer", "list", "path", "url", "secret"]


class Reader(Enum):
    """Who reads a variable, which is also where it is set."""

    APP = "the app (weatherproject/settings.py)"
    SERVER = "the image's gunicorn (docker/start, weatherproject/gunicorn_config.py)"
    COMPOSE = "Compose, filling in compose*.yaml from .env"
    STACK = "the compose stack's own scripts (docker/*.sh); compose.yaml sets them"
    MAKE_RUN = "make run (scripts/devstack.py)"


@dataclass(frozen=True)
class Variable:
    """One environment variable. ``default`` is the value it has when unset, written as
    ``.env.example`` writes it ("" for none); ``default_note`` says when the real default
    is another (it depends on ``DJANGO_DEBUG``, or is computed)."""

    name: str
    kind: Kind
    default: str
    meaning: str
    reader: Reader = Reader.APP
    default_note: str = ""

    @property
    def in_env_example(self) -> bool:
        """Whether ``.env.example`` lists it: all but what compose.yaml sets for its scripts."""
        return self.reader is not Reader.STACK


_ = Variable
APP, SERVER, COMPOSE, STACK, MAKE_RUN = (
    Reader.APP,
    Reader.SERVER,
    Reader.COMPOSE,
    Reader.STACK,
    Reader.MAKE_RUN,
)

VARIABLES: tuple[Variable, ...] = (
    # --- Django ------------------------------------------------------------------------
    _(
        "DJANGO_SETTINGS_MODULE",
        "text",
        "weatherproject.settings",
        "The settings module (manage.py and the WSGI app set this default).",
    ),
    _(
        "DJANGO_DEBUG",
        "boolean",
        "0",
        "Development mode. Off means production settings: HTTPS redirects, HSTS, secure cookies, and a required secret key.",
    ),
    _(
        "DJANGO_SECRET_KEY",
        "secret",
        "",
        "Django's secret key. Required in production: the app refuses to start without it (it or DJANGO_SECRET_KEY_FILE).",
        default_note="random per process when DJANGO_DEBUG=1",
    ),
    _(
        "DJANGO_SECRET_KEY_FILE",
        "path",
        "",
        "A file holding DJANGO_SECRET_KEY (compose secrets, Kubernetes Secret volumes); wins over the variable.",
    ),
    _(
        "DJANGO_ALLOWED_HOSTS",
        "list",
        "localhost,127.0.0.1",
        "Host names the site answers to, comma-separated.",
    ),
    _(
        "DJANGO_CSRF_TRUSTED_ORIGINS",
        "list",
        "",
        "Origins trusted for POSTs (the admin login) behind a proxy, e.g. https://weather.example.com.",
    ),
    _("DJANGO_ADMIN_URL", "text", "admin/", "Where the admin lives."),
    _(
        "DJANGO_STATIC_ROOT",
        "path",
        "",
        "Where collectstatic writes the static files.",
        default_note="staticfiles/ in the project",
    ),
    _("DJANGO_LOG_LEVEL", "text", "INFO", "The root logger's level."),
    _(
        "DJANGO_SECURE_SSL_REDIRECT",
        "boolean",
        "1",
        "Redirect plain HTTP to HTTPS (not /healthz and /readyz: probes speak plain HTTP). Turn off only behind a proxy that already redirects, or for a plain-HTTP local stack.",
        default_note="0 when DJANGO_DEBUG=1",
    ),
    _(
        "DJANGO_SECURE_HSTS_SECONDS",
        "integer",
        "31536000",
        "Strict-Transport-Security max-age.",
        default_note="0 when DJANGO_DEBUG=1",
    ),
    _(
        "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "boolean",
        "1",
        "HSTS includeSubDomains.",
        default_note="0 when DJANGO_DEBUG=1",
    ),
    _(
        "DJANGO_SECURE_HSTS_PRELOAD",
        "boolean",
        "1",
        "HSTS preload.",
        default_note="0 when DJANGO_DEBUG=1",
    ),
    _(
        "DJANGO_SESSION_COOKIE_SECURE",
        "boolean",
        "1",
        "The session cookie only over HTTPS.",
        default_note="0 when DJANGO_DEBUG=1",
    ),
    _(
        "DJANGO_CSRF_COOKIE_SECURE",
        "boolean",
        "1",
        "The CSRF cookie only over HTTPS.",
        default_note="0 when DJANGO_DEBUG=1",
    ),
    _(
        "AXES_FAILURE_LIMIT",
        "integer",
        "5",
        "Wrong passwords for one username from one address (the TCP peer, or behind WEATHER_TRUSTED_PROXIES the hop before them) before that pair is locked out of the admin login.",
    ),
    _(
        "AXES_COOLOFF_MINUTES",
        "number",
        "15",
        "Minutes without a try before a lockout ends (each try meanwhile starts the wait over).",
    ),
    # --- Database ----------------------------------------------------------------------
    _(
        "DATABASE_URL",
        "url",
        "sqlite:///db.sqlite3",
        "The database, e.g. postgres://user:pass@db:5432/weather (psycopg 3).",
        default_note="db.sqlite3 in the project directory",
    ),
    _("DATABASE_PASSWORD", "secret", "", "The database password, when it is not in DATABASE_URL."),
    _(
        "DATABASE_PASSWORD_FILE",
        "path",
        "",
        "A file holding the database password, which then need not be in the URL; wins over DATABASE_PASSWORD.",
    ),
    _(
        "DATABASE_CONN_MAX_AGE",
        "integer",
        "60",
        "Seconds each thread keeps its PostgreSQL connection (SQLite: a new one per request).",
    ),
    # --- Logs, metrics, errors ---------------------------------------------------------
    _(
        "WEATHER_LOG_FORMAT",
        "text",
        "json",
        "json: one JSON object per log line; text: one readable line.",
        default_note="text when DJANGO_DEBUG=1",
    ),
    _("WEATHER_METRICS", "boolean", "1", "0: count nothing, and /metrics is a 404."),
    _(
        "WEATHER_METRICS_ALLOWED",
        "list",
        "127.0.0.0/8,::1/128",
        "Networks whose direct requests may read /metrics (Prometheus' addresses); anyone else, and any request a proxy forwarded, gets a 404.",
    ),
    _(
        "SENTRY_DSN",
        "secret",
        "",
        "Error tracking with Sentry, off without a DSN; the key is masked in every event sent.",
    ),
    _("SENTRY_DSN_FILE", "path", "", "A file holding SENTRY_DSN."),
    _("SENTRY_ENVIRONMENT", "text", "", "The environment Sentry files events under."),
    _("SENTRY_RELEASE", "text", "", "The release Sentry files events under."),
    # --- Vault (or OpenBao): where the OpenWeather key lives ----------------------------
    _("VAULT_ADDR", "url", "http://127.0.0.1:8200", "The Vault or OpenBao server."),
    _(
        "VAULT_TOKEN",
        "secret",
        "",
        "Token login (renewed while it can be, then logged as expired).",
    ),
    _(
        "VAULT_TOKEN_FILE",
        "path",
        "",
        "A file holding the token, re-read when the token can no longer be renewed (Vault Agent rewrites it).",
    ),
    _(
        "VAULT_ROLE_ID",
        "text",
        "",
        "AppRole login: the role ID (renews its token, logs in again when it cannot). vault-init's default for the role it creates is weather-web.",
    ),
    _("VAULT_SECRET_ID", "secret", "", "AppRole login: the secret ID."),
    _(
        "VAULT_SECRET_ID_FILE",
        "path",
        "",
        "AppRole login: a file holding the secret ID, read at each login.",
    ),
    _("VAULT_APPROLE_MOUNT", "text", "approle", "The AppRole auth method's mount."),
    _(
        "VAULT_K8S_ROLE",
        "text",
        "",
        "Kubernetes login: the Vault role bound to the pod's service account (renews and logs in again like AppRole).",
    ),
    _(
        "VAULT_K8S_TOKEN_PATH",
        "path",
        "/var/run/secrets/vault/token",
        "The projected service account token the Kubernetes login uses, read at each login.",
    ),
    _("VAULT_K8S_MOUNT", "text", "kubernetes", "The Kubernetes auth method's mount."),
    _("VAULT_KV_MOUNT", "text", "secret", "The KV v2 mount where the key lives."),
    _("VAULT_SECRET_PATH", "text", "weather", "The secret's path in that mount."),
    _(
        "VAULT_SECRET_KEY",
        "text",
        "openweather_api_key",
        "The field of the secret holding the key.",
    ),
    _("VAULT_CACERT", "path", "", "A CA bundle to verify Vault's TLS certificate with."),
    _("VAULT_TIMEOUT", "number", "3", "Seconds for each call to Vault."),
    _(
        "VAULT_KEY_TTL",
        "number",
        "300",
        "Seconds the key is kept in memory before Vault is read again.",
    ),
    _(
        "VAULT_RETRY_BACKOFF",
        "number",
        "2",
        "Seconds Vault is left alone after a failed read, doubling per failure in a row (with jitter); 0 retries at once.",
    ),
    _("VAULT_RETRY_BACKOFF_MAX", "number", "30", "The most that wait grows to."),
    _(
        "WEATHER_READYZ_DETAILS",
        "boolean",
        "0",
        "1: /readyz names each check and the failing one's error class in its body. Only where /readyz is reachable from a private network alone.",
    ),
    # --- OpenWeather and the cache -----------------------------------------------------
    _(
        "OPENWEATHER_BASE_URL",
        "url",
        "https://api.openweathermap.org",
        "The upstream; the fake server in tests and the demo stack.",
    ),
    _("OPENWEATHER_CONNECT_TIMEOUT", "number", "3.05", "Seconds to connect, on every call."),
    _(
        "OPENWEATHER_READ_TIMEOUT",
        "number",
        "5",
        "Seconds between bytes, on every call; the whole answer must arrive within the two timeouts' sum.",
    ),
    _(
        "OPENWEATHER_MAX_BYTES",
        "integer",
        "2000000",
        "The largest answer read (decompressed; at least 65536); larger is a failure.",
    ),
    _(
        "WEATHER_CACHE_TTL",
        "number",
        "600",
        "Seconds a lookup is served from the database (OpenWeather's models update about every 10 minutes).",
    ),
    _(
        "WEATHER_GEOCODE_TTL",
        "number",
        "604800",
        "Seconds a geocoding answer is kept (places do not move).",
    ),
    _(
        "WEATHER_NEGATIVE_TTL",
        "number",
        "600",
        "Seconds 'no such place' is remembered, so typos cost no upstream calls.",
    ),
    _(
        "WEATHER_STALE_MAX",
        "number",
        "21600",
        "The oldest payload served, marked stale, when the upstream or Vault fails.",
    ),
    _(
        "WEATHER_AIR_TTL",
        "number",
        "1800",
        "Seconds a place's air quality is served from the database (OpenWeather models it hourly).",
    ),
    _(
        "WEATHER_AIR_STALE_MAX",
        "number",
        "10800",
        "The oldest air quality shown, marked stale, when its call fails; older, the page"
        " says air quality is unavailable.",
    ),
    _(
        "WEATHER_BUDGET_PER_MINUTE",
        "integer",
        "60",
        "The site's upstream calls per minute, shared by every worker (the free tier).",
    ),
    _(
        "WEATHER_BUDGET_PER_DAY",
        "integer",
        "1000",
        "The site's upstream calls per UTC day, shared by every worker (the free tier).",
    ),
    _(
        "WEATHER_CLIENT_BUDGET_PER_MINUTE",
        "integer",
        "10",
        "One client's share of the per-minute cap (its address, or its IPv6 /64).",
    ),
    _("WEATHER_CLIENT_BUDGET_PER_DAY", "integer", "100", "One client's share of the per-day cap."),
    _(
        "WEATHER_BUDGET_RESERVED_FOR_REFRESH",
        "number",
        "0.25",
        "The share of the caps (0 to 1) only refreshes of known places may spend.",
    ),
    _(
        "WEATHER_TRUSTED_PROXIES",
        "list",
        "",
        "Addresses or networks of the proxies in front of the app; only theirs X-Forwarded-For and X-Forwarded-Proto are believed. Empty: none.",
    ),
    _(
        "WEATHER_REQUEST_BUDGET",
        "number",
        "10",
        "Seconds a request may spend on the upstream, fetching or waiting (at least 0.5).",
    ),
    _(
        "WEATHER_REFRESH_WAIT",
        "number",
        "2",
        "Seconds to wait for another request's refresh before serving a stale copy.",
    ),
    _(
        "WEATHER_MEMO_SECONDS",
        "number",
        "5",
        "Seconds a worker re-serves a report without asking the database (never past its expiry).",
    ),
    _(
        "WEATHER_HIT_FLUSH_SECONDS",
        "number",
        "5",
        "Seconds cache-hit and visitor counts are summed in memory before being written.",
    ),
    _(
        "WEATHER_DEMO_MODE",
        "boolean",
        "0",
        "The pages say they show demo data (make run and the compose stack set it when they serve the bundled fake upstream).",
    ),
    # --- The image's gunicorn ------------------------------------------------------------
    _(
        "GUNICORN_BIND",
        "text",
        "0.0.0.0:8000",
        "Where gunicorn listens (the healthcheck asks there too).",
        SERVER,
    ),
    _(
        "WEB_CONCURRENCY",
        "integer",
        "2",
        "gunicorn worker processes (gunicorn's own name).",
        SERVER,
    ),
    _("GUNICORN_THREADS", "integer", "4", "Threads per worker.", SERVER),
    _("GUNICORN_TIMEOUT", "integer", "30", "Seconds before a stuck worker is restarted.", SERVER),
    _(
        "FORWARDED_ALLOW_IPS",
        "list",
        "127.0.0.1",
        "Proxies whose X-Forwarded-* gunicorn believes (the stack: its containers; Kubernetes: the pod network).",
        SERVER,
    ),
    _(
        "PROMETHEUS_MULTIPROC_DIR",
        "path",
        "",
        "Where gunicorn's workers write metric values for /metrics to add up (emptied when gunicorn starts).",
        SERVER,
        default_note="a fresh directory under /tmp, removed at exit",
    ),
    # --- make run --------------------------------------------------------------------------
    _(
        "OPENWEATHER_API_KEY",
        "secret",
        "",
        "Your OpenWeather key, read only to seed a Vault: by make run (without it, the fake upstream) and by the stack's vault-init. The web app never reads it.",
        MAKE_RUN,
    ),
    _("HOST", "text", "127.0.0.1", "Where make run serves the dashboard.", MAKE_RUN),
    _("PORT", "integer", "8000", "The port make run serves the dashboard on.", MAKE_RUN),
    _("VAULT_DEV_PORT", "integer", "8200", "The port of make run's OpenBao dev server.", MAKE_RUN),
    # --- The compose stack's .env ----------------------------------------------------------
    _(
        "OPENWEATHER_API_KEY_FILE",
        "path",
        "",
        "Your OpenWeather key, in a file outside the repository; it reaches vault-init alone, as a compose secret. Empty: the bundled fake and its demo key. Set OPENWEATHER_BASE_URL=https://api.openweathermap.org and WEATHER_DEMO_MODE=0 with it.",
        COMPOSE,
    ),
    _(
        "POSTGRES_PASSWORD",
        "secret",
        "",
        "compose.production.yaml only (generated inside the stack otherwise): the database password, a long random string.",
        COMPOSE,
    ),
    _(
        "VAULT_DEV_ROOT_TOKEN",
        "secret",
        "",
        "compose.production.yaml only (generated otherwise): the dev Vault's root token, a long random string.",
        COMPOSE,
    ),
    _(
        "SECRET_ID_TTL",
        "text",
        "24h",
        "How long the web app's AppRole secret ID may log in; `docker compose run --rm vault-init` issues a new one (and destroys the old) before then.",
        COMPOSE,
    ),
    _(
        "WEATHER_SUBNET",
        "text",
        "172.29.53.0/24",
        "The stack's network, fixed so the AppRole can be bound to its containers. Change the three WEATHER_* network variables together if the subnet is taken.",
        COMPOSE,
    ),
    _(
        "WEATHER_CONTAINER_RANGE",
        "text",
        "172.29.53.128/25",
        "Where containers get their addresses: the AppRole's bound CIDRs, and the proxies the app and gunicorn believe.",
        COMPOSE,
    ),
    _(
        "WEATHER_GATEWAY",
        "text",
        "172.29.53.1",
        "The network's gateway, where published-port traffic comes from (outside the container range).",
        COMPOSE,
    ),
    _(
        "BIND_ADDRESS",
        "text",
        "127.0.0.1",
        "The address the published ports bind to (keep it on 127.0.0.1).",
        COMPOSE,
    ),
    _("WEB_PORT", "integer", "8000", "The proxy's published port.", COMPOSE),
    _("VAULT_PORT", "integer", "8200", "Vault's published port.", COMPOSE),
    _(
        "WEATHER_IMAGE",
        "text",
        "weather-dashboard:local",
        "The tag the stack builds the Dockerfile into.",
        COMPOSE,
    ),
    # --- Set by compose.yaml for the stack's scripts ----------------------------------------
    _("SECRETS_DIR", "path", "", "stack-secrets: where each secret's volume is mounted.", STACK),
    _(
        "GIVEN_DIR",
        "path",
        "/run/secrets",
        "stack-secrets: where given secrets (compose secrets) are found.",
        STACK,
    ),
    _(
        "REQUIRE_GIVEN",
        "boolean",
        "0",
        "stack-secrets: 1 (compose.production.yaml) makes a secret not given an error instead of generating it.",
        STACK,
    ),
    _(
        "BAO_DEV_ROOT_TOKEN_FILE",
        "path",
        "/run/secrets/vault-root-token",
        "vault-dev: the file holding the dev server's root token.",
        STACK,
    ),
    _(
        "DEMO_OPENWEATHER_KEY",
        "secret",
        "",
        "vault-init: the key written when OPENWEATHER_API_KEY is empty; only the bundled fake upstream accepts it.",
        STACK,
    ),
    _(
        "REQUIRE_KEY",
        "boolean",
        "0",
        "vault-init: 1 (compose.production.yaml) makes an empty OPENWEATHER_API_KEY an error.",
        STACK,
    ),
    _(
        "SECRET_ID_FILE",
        "path",
        "",
        "vault-init: where to write the AppRole secret ID (required).",
        STACK,
    ),
    _(
        "SECRET_ID_OWNER",
        "text",
        "",
        "vault-init: uid:gid to give that file to (the image's 10001:10001).",
        STACK,
    ),
    _(
        "BOUND_CIDRS",
        "list",
        "",
        "vault-init: CIDRs the secret ID and its tokens are bound to (compose: the stack's containers).",
        STACK,
    ),
    _(
        "VAULT_POLICY",
        "text",
        "weather-read",
        "vault-init: the name of the read-only policy.",
        STACK,
    ),
)

BY_NAME: dict[str, Variable] = {variable.name: variable for variable in VARIABLES}


def declared(name: str) -> Variable:
    """Return ``name``'s declaration; KeyError when it has none."""
    return BY_NAME[name]
