"""``/metrics``: every worker's metrics in Prometheus' text format, for scrapers only.

Answered only to a peer in ``WEATHER_METRICS_ALLOWED`` (networks; loopback by default)
that connects directly: a request a proxy forwarded (it carries ``X-Forwarded-For``)
is refused even from an allowed address, since behind a proxy that address is the
proxy's, not the scraper's. Anyone else gets the same 404 as any unknown path. No
answer here is ever stored by a cache (``Cache-Control: no-store``).

The answer is the sum of every gunicorn worker's values (``prometheus_client``'s
``MultiProcessCollector`` over ``PROMETHEUS_MULTIPROC_DIR``), or this process's own
(tests, ``runserver``), and what is read at scrape time from the database: the
site's upstream budget left now, the same for every worker and replica.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterator

from django.conf import settings
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers
from django.views.defaults import page_not_found
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from weather import budget
from weather.caching import Lazy
from weather.metrics import instruments, multiprocess_dir

logger = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _allowed_from_settings() -> tuple[Network, ...]:
    return tuple(
        ipaddress.ip_network(item, strict=False) for item in settings.WEATHER_METRICS_ALLOWED
    )


allowed_networks: Lazy[tuple[Network, ...]] = Lazy(
    _allowed_from_settings, name="exposition.allowed_networks", cleared_by=("WEATHER_METRICS_",)
)
"""The networks whose direct requests may read /metrics (WEATHER_METRICS_ALLOWED)."""


def may_scrape(request: HttpRequest) -> bool:
    """Whether this request comes straight from an address allowed to read the metrics."""
    if not settings.WEATHER_METRICS:
        return False
    if "HTTP_X_FORWARDED_FOR" in request.META:
        return False
    try:
        peer = ipaddress.ip_address(request.META.get("REMOTE_ADDR", "").strip())
    except ValueError:
        return False
    if isinstance(peer, ipaddress.IPv6Address) and peer.ipv4_mapped is not None:
        peer = peer.ipv4_mapped
    return any(peer in network for network in allowed_networks())


class BudgetCollector:
    """The site's upstream budget, read from the database when Prometheus scrapes."""

    def collect(self) -> Iterator[Metric]:
        try:
            windows = budget.site_remaining()
        except DatabaseError as exc:
            # The series goes missing (an alert can say so); the rest still answers.
            logger.warning("budget metrics unavailable: %s", type(exc).__name__)
            return
        remaining = GaugeMetricFamily(
            "weather_budget_remaining",
            "Upstream calls the site may still make in the current window (UTC), fleet-wide.",
            labels=["window"],
        )
        limit = GaugeMetricFamily(
            "weather_budget_limit",
            "The site's cap on upstream calls per window (WEATHER_BUDGET_PER_MINUTE / _DAY).",
            labels=["window"],
        )
        for window, (left, cap) in windows.items():
            remaining.add_metric([window], left)
            limit.add_metric([window], cap)
        yield remaining
        yield limit


class _ProcessValues:
    """This process's own metrics, when there is no multiprocess directory to read."""

    def collect(self) -> Iterator[Metric]:
        yield from instruments().registry.collect()


def exposition() -> bytes:
    """Every metric, in Prometheus' text format."""
    registry = CollectorRegistry()
    if path := multiprocess_dir():
        MultiProcessCollector(registry, path=path)  # type: ignore[no-untyped-call]
    else:
        registry.register(_ProcessValues())
    registry.register(BudgetCollector())
    return generate_latest(registry)


def metrics_response(request: HttpRequest) -> HttpResponse:
    """The metrics for an allowed scraper; for anyone else, the site's plain 404."""
    if may_scrape(request):
        response = HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
    else:
        response = page_not_found(request, Http404())
    # no-store (with private, no-cache, max-age=0): neither nginx nor a browser keeps it.
    add_never_cache_headers(response)
    return response
