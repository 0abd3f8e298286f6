"""HTTP caching from a report's own expiry: validators and Cache-Control for shared caches.

A fresh report may be kept by browsers and CDNs until the lookup expires
(``max-age``/``s-maxage`` = the seconds left), and served by them a while longer if
this site then fails (``stale-if-error``: as long as the site itself would serve the
copy, ``WEATHER_STALE_MAX`` after it was fetched). A stale report, or an error, is
never stored as fresh. Validators (``ETag``, ``Last-Modified``) let a client ask
again cheaply: the answer is 304 with no body.
"""

from __future__ import annotations

import hashlib
import math
from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils import timezone
from django.utils.cache import (
    add_never_cache_headers,
    get_conditional_response,
    patch_cache_control,
)
from django.utils.http import http_date

from weather.reports import WeatherReport


def report_etag(report: WeatherReport, *more: object) -> str:
    """A weak ETag for what is shown of ``report`` (and of ``more``, the rest of a body).

    Weak: a copy first served as "upstream" and later as "cache" differs only in that
    label, and a client holding either has the same weather.
    """
    version = report.version
    parts = (*version[:3], *version[4:], *more)  # all but the source (see above)
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=12)
    return f'W/"{digest.hexdigest()}"'


def seconds_fresh(report: WeatherReport) -> int:
    """Whole seconds until the report's lookup (or its air quality's) expires (0 when it has)."""
    expires_at = report.expires_at
    if report.air is not None and report.air.expires_at is not None:
        expires_at = min(expires_at, report.air.expires_at)
    return max(0, math.floor((expires_at - timezone.now()).total_seconds()))


def cache_like_report(response: HttpResponseBase, report: WeatherReport, *, shared: bool) -> None:
    """Let caches keep ``response`` as long as ``report`` is fresh; stale ones not at all.

    ``shared`` False keeps it out of shared caches (the body is this visitor's own).
    """
    seconds = seconds_fresh(report)
    # Air quality missing or stale is born of a failure too: the page says so only now.
    air_degraded = report.air is not None and report.air.is_degraded
    if report.is_stale or air_degraded or seconds == 0:
        add_never_cache_headers(response)
        return
    serve_stale_until = report.fetched_at + timedelta(seconds=settings.WEATHER_STALE_MAX)
    stale_if_error = max(0, math.floor((serve_stale_until - report.expires_at).total_seconds()))
    if shared:
        patch_cache_control(
            response, public=True, max_age=seconds, s_maxage=seconds, stale_if_error=stale_if_error
        )
    else:
        patch_cache_control(response, private=True, max_age=seconds)
    response["Last-Modified"] = http_date(report.fetched_at.timestamp())


def not_modified(request: HttpRequest, *, etag: str) -> HttpResponse | None:
    """304 Not Modified when the client already has this version, before any rendering."""
    if request.method not in ("GET", "HEAD"):
        return None
    return get_conditional_response(request, etag=etag)


def not_modified_or(request: HttpRequest, response: HttpResponse, *, etag: str) -> HttpResponse:
    """304 Not Modified (with ``response``'s headers) when the client has this version;
    else ``response`` itself, with its ETag."""
    response["ETag"] = etag
    if request.method not in ("GET", "HEAD") or response.status_code != 200:
        return response
    answer = get_conditional_response(request, etag=etag, response=response)
    return answer if answer is not None else response
