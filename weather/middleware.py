"""The app's middleware: each request's ID and its metrics, ``/metrics`` itself,
forwarding headers only from trusted proxies, whole answers kept per worker, and a
database outage as a clear 503
instead of a traceback or a bare 500."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext

from weather import metrics, request_id, response_cache
from weather.client_ip import forget_untrusted_proto
from weather.exposition import metrics_response

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30
# The API's error code while the database is down; the only one not raised as an
# OpenWeatherError or VaultError, so weather/openapi.json's list names it separately.
DATABASE_UNAVAILABLE = "database_unavailable"


class RequestIdMiddleware:
    """Give the request its ID (a trusted proxy's, or a new one) for every log line made
    while it is handled, and return it in X-Request-ID (first in MIDDLEWARE)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        current = request_id.request_id_for(request)
        request_id.begin(current)
        response = self.get_response(request)
        response[request_id.HEADER] = current
        return response


METRICS_PATH = "/metrics"


class RequestMetricsMiddleware:
    """Count each answered request and its duration by view, method and status."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        if not settings.WEATHER_METRICS:
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        response = self.get_response(request)
        count_request(request, response.status_code, started=started)
        return response


def count_request(request: HttpRequest, status: int, *, started: float) -> None:
    """The request metric of one answered request (``started``: its perf_counter)."""
    metrics.http_request(
        view=_view(request),
        method=request.method or "",
        status=status,
        seconds=time.perf_counter() - started,
    )


def _view(request: HttpRequest) -> str:
    """The URL's name: few values whatever paths clients try."""
    match = request.resolver_match
    if match is not None:
        return match.view_name or "unnamed"
    if request.path_info == METRICS_PATH:
        return "metrics"
    if request.path_info.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return "static"
    return "unmatched"


class MetricsEndpointMiddleware:
    """Answer /metrics here, ahead of the host check and the HTTPS redirect: Prometheus
    scrapes each pod by its address over plain HTTP (weather/exposition.py decides who may)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path_info == METRICS_PATH:
            return metrics_response(request)
        return self.get_response(request)


class TrustedProxyMiddleware:
    """Drop X-Forwarded-Proto unless the peer is a trusted proxy (before SecurityMiddleware)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        forget_untrusted_proto(request.META)
        return self.get_response(request)


class ResponseCacheMiddleware:
    """Serve a kept answer (weather/response_cache.py) instead of the rest of the chain,
    and keep what the chain answers when its view allows. After the request's ID, its
    metrics and the trusted-proxy check, which every answer needs; ahead of the rest,
    whose work is already in a kept answer's headers."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if (kept := response_cache.served(request)) is not None:
            return kept
        response = self.get_response(request)
        response_cache.keep(request, response)
        return response


class DatabaseUnavailableMiddleware:
    """Answer 503 with Retry-After when a view cannot reach the database."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        # Only connection-level failures: an IntegrityError is a bug, and must stay loud.
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        logger.error("database unavailable: %s: %s", type(exception).__name__, exception)
        message = gettext("The dashboard's database is not answering. Please try again shortly.")
        if request.path.startswith("/api/"):
            response: HttpResponse = JsonResponse(
                {"error": {"code": DATABASE_UNAVAILABLE, "message": message}}, status=503
            )
        else:
            html = render_to_string(
                "weather/unavailable.html", {"message": message}, request=request
            )
            response = HttpResponse(html, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
