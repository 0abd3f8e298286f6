"""What the app counts for Prometheus: every metric it defines, and one call per event.

The names and labels are a contract with dashboards and alert rules
(``deploy/prometheus/``); docs/reference/metrics-and-logs.md lists them. Under gunicorn, each worker
writes its values to files in ``PROMETHEUS_MULTIPROC_DIR`` (``prometheus_client``'s
multiprocess mode, set up by ``docker/start`` and ``weatherproject/gunicorn_config.py``),
and ``/metrics`` adds up every worker's (``weather/exposition.py``). Without that
directory (tests, ``runserver``) the values live in this process's own registry.

The metric objects are built on first use and registered with the process caches, so
``clear_all()`` starts a test (as a new worker starts) from zero.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from django.conf import settings
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from weather.caching import NO_SETTING, Lazy

UPSTREAM_OUTCOMES = (
    "ok",
    "error",
    "timeout",
    "rate_limited",
    "invalid_key",
    "not_found",
    "refused",
)
UPSTREAM_ENDPOINTS = ("geocode", "weather", "forecast", "air_pollution")
REPORT_SOURCES = ("cache", "upstream", "stale")
# Request methods the site answers; anything else is counted as "other" (label values
# must stay few whatever clients send).
_METHODS = frozenset({"GET", "HEAD", "POST", "OPTIONS"})

# OpenWeather answers in about 150 ms; the client gives up after 3 + 5 s.
_UPSTREAM_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# A cached page takes about a millisecond; a cold one waits on the upstream twice.
_REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def multiprocess_dir() -> str:
    """The directory every worker writes its values to; empty when not under gunicorn."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


@dataclass(frozen=True)
class Instruments:
    """The metric objects, on a registry of their own (not prometheus_client's global one)."""

    registry: CollectorRegistry
    upstream_requests: Counter
    upstream_duration: Histogram
    reports: Counter
    vault_reads: Counter
    http_requests: Counter
    http_duration: Histogram

    @classmethod
    def build(cls) -> Instruments:
        made = cls._make(CollectorRegistry(auto_describe=True))
        # Every expected series from the start, at zero: a rate() over a counter that
        # appears only at its first event misses that event.
        for endpoint in UPSTREAM_ENDPOINTS:
            for outcome in UPSTREAM_OUTCOMES:
                made.upstream_requests.labels(endpoint, outcome)
        for source in REPORT_SOURCES:
            made.reports.labels(source)
        return made

    @classmethod
    def _make(cls, registry: CollectorRegistry) -> Instruments:
        return cls(
            registry=registry,
            upstream_requests=Counter(
                "weather_upstream_requests_total",
                "Calls to OpenWeather by endpoint and outcome; 'refused': our own budget "
                "(or a client's share, or the request's deadline) stopped it, nothing was sent.",
                ["endpoint", "outcome"],
                registry=registry,
            ),
            upstream_duration=Histogram(
                "weather_upstream_request_duration_seconds",
                "Time from sending a call to OpenWeather to having its whole answer.",
                ["endpoint"],
                buckets=_UPSTREAM_BUCKETS,
                registry=registry,
            ),
            reports=Counter(
                "weather_reports_total",
                "Weather reports served to visitors, by where they came from.",
                ["source"],
                registry=registry,
            ),
            vault_reads=Counter(
                "weather_vault_reads_total",
                "Reads of the OpenWeather key from Vault, by outcome.",
                ["outcome"],
                registry=registry,
            ),
            http_requests=Counter(
                "weather_http_requests_total",
                "HTTP requests answered, by view (URL name), method and status code.",
                ["view", "method", "status"],
                registry=registry,
            ),
            http_duration=Histogram(
                "weather_http_request_duration_seconds",
                "Time to answer an HTTP request inside Django, by view.",
                ["view"],
                buckets=_REQUEST_BUCKETS,
                registry=registry,
            ),
        )


instruments: Lazy[Instruments] = Lazy(
    Instruments.build, name="metrics.instruments", cleared_by=NO_SETTING
)
"""Return this process's metric objects (``instruments()``), built on first use."""


@dataclass(frozen=True)
class TokenGauges:
    """The Vault token's gauges, made only once this process has a token: a worker that
    never logged in must not report a TTL of 0 (the fleet's figure is the least one)."""

    ttl: Gauge
    expiry: Gauge

    @classmethod
    def build(cls) -> TokenGauges:
        registry = instruments().registry
        return cls(
            ttl=Gauge(
                "weather_vault_token_ttl_seconds",
                "The Vault token's TTL as Vault last reported it (at login or renewal); "
                "the least of the live workers'. +Inf: the token does not expire.",
                registry=registry,
                multiprocess_mode="livemin",
            ),
            expiry=Gauge(
                "weather_vault_token_expiry_timestamp_seconds",
                "When the Vault token expires (Unix time); the earliest of the live "
                "workers'. Minus time(): its TTL now.",
                registry=registry,
                multiprocess_mode="livemin",
            ),
        )


token_gauges: Lazy[TokenGauges] = Lazy(
    TokenGauges.build, name="metrics.token_gauges", cleared_by=NO_SETTING
)
"""Return this process's Vault token gauges (``token_gauges()``), made at its first login."""


def upstream_call(*, endpoint: str, outcome: str, seconds: float | None) -> None:
    """Count one call to OpenWeather (``seconds``: None when nothing was sent)."""
    if not settings.WEATHER_METRICS:
        return
    metrics = instruments()
    metrics.upstream_requests.labels(endpoint, outcome).inc()
    if seconds is not None:
        metrics.upstream_duration.labels(endpoint).observe(seconds)


def report_served(*, source: str) -> None:
    """Count one report served to a visitor: from the cache, the upstream, or stale."""
    if not settings.WEATHER_METRICS:
        return
    instruments().reports.labels(source).inc()


def vault_read(*, outcome: str) -> None:
    """Count one read of the key from Vault."""
    if not settings.WEATHER_METRICS:
        return
    instruments().vault_reads.labels(outcome).inc()


def vault_token_lease(*, ttl: float, expires_at: float) -> None:
    """Record the Vault token's TTL and expiry time (Unix), as just learnt from Vault."""
    if not settings.WEATHER_METRICS:
        return
    gauges = token_gauges()
    gauges.ttl.set(ttl)
    gauges.expiry.set(expires_at)


def http_request(*, view: str, method: str, status: int, seconds: float) -> None:
    """Count one answered HTTP request and its duration."""
    if not settings.WEATHER_METRICS:
        return
    metrics = instruments()
    metrics.http_requests.labels(view, method if method in _METHODS else "other", str(status)).inc()
    metrics.http_duration.labels(view).observe(seconds)
