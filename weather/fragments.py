"""The dashboard's report, rendered once per report version and reused by each worker.

The current conditions, the days, the chart and its table are most of a result page
and depend on the report alone: rendering them per view cost about 20 ms of a 26 ms
cached page view (bench/RESULTS.md). What changes per view (the "updated … ago" line,
the stale banner, the search form) stays in dashboard.html. The parts also depend on
the visitor's wind unit and clock (``Display``) and the page's language, so those are
part of their key: German and English never share one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from weather.air_display import air_part
from weather.caching import BoundedCache
from weather.conversions import to_metres_per_second, wind_in
from weather.freshness import report_etag
from weather.reports import WeatherReport
from weather.serializers import UNIT_LABELS, WIND_LABELS
from weather.summaries import daily_summaries, local_time
from weather.units import Display


@dataclass(frozen=True)
class ReportParts:
    current: SafeString  # the "now" block, the details and the note on local times
    forecast: SafeString  # the other places of that name, the days, the chart and table
    air: SafeString  # the air quality, or why there is none


# A page's parts are tens of kilobytes; a worker keeps the latest few hundred of them.
_parts: BoundedCache[ReportParts] = BoundedCache(
    name="fragments.report_parts",
    max_entries=256,
    max_bytes=8 * 2**20,
    weigh=lambda parts: len(parts.current) + len(parts.forecast) + len(parts.air),
)


def report_parts(report: WeatherReport, *, display: Display) -> ReportParts:
    """The report's parts of the page in the active language, rendered once per report
    version, display (wind unit and clock) and language in this process."""
    return _parts.get_or_make(
        (report.version, display, get_language()), lambda: _render(report, display)
    )


# Whole result pages, by ETag and source: while a report is fresh its page is the same
# bytes for everyone who asks for that address (the "updated" time is absolute; the
# page's script says how long ago), so each worker renders it once.
_pages: BoundedCache[bytes] = BoundedCache(
    name="fragments.pages", max_entries=512, max_bytes=16 * 2**20, weigh=len
)


def rendered_page(key: tuple[str, str], render: Callable[[], bytes]) -> bytes:
    """The body of a fresh report's page for ``key`` ((ETag, source)), rendered once."""
    return _pages.get_or_make(key, render)


def page_etag(request: HttpRequest, report: WeatherReport, units: str, *, display: Display) -> str:
    """The ETag of a result page, known before it is rendered: everything its body is
    made of (the report, the address as typed and its host, its language, the units, the
    wind unit and clock, this release's templates, catalogs and static files, the demo
    banner)."""
    static_version = getattr(staticfiles_storage, "manifest_hash", "")
    return report_etag(
        report,
        "page",
        _TEMPLATES_VERSION,
        static_version,
        request.scheme,
        request.get_host(),  # the page's alternate-language links are absolute
        request.get_full_path(),
        get_language(),
        units,
        display.wind,
        display.clock,
        settings.WEATHER_DEMO_MODE,
    )


def _templates_version() -> str:
    """A digest of the app's templates and compiled catalogs: a release that changes them
    (a new translation too) changes every ETag."""
    digest = hashlib.blake2b(digest_size=8)
    for path in [*sorted(_TEMPLATES.rglob("*.html")), *sorted(_CATALOGS.rglob("*.mo"))]:
        digest.update(path.read_bytes())
    return digest.hexdigest()


_TEMPLATES = Path(__file__).resolve().parent / "templates"
_CATALOGS = Path(__file__).resolve().parent / "locale"
_TEMPLATES_VERSION = _templates_version()


def _render(report: WeatherReport, display: Display) -> ReportParts:
    current = report.current
    metres_per_second = to_metres_per_second(current.wind_speed, report.units)
    context: dict[str, Any] = {
        "report": report,
        "labels": {**UNIT_LABELS[report.units], "speed": WIND_LABELS[display.wind]},
        "days": daily_summaries(report.forecast),
        "sunrise": local_time(current.sunrise, current.timezone_offset),
        "sunset": local_time(current.sunset, current.timezone_offset),
        "clock": display.clock,
        "wind_unit": display.wind,
        "wind_speed": wind_in(metres_per_second=metres_per_second, unit=display.wind),
    }
    # Both templates escape what they insert; the results are safe HTML as rendered.
    return ReportParts(
        current=mark_safe(render_to_string("weather/_report_current.html", context)),  # noqa: S308
        forecast=mark_safe(render_to_string("weather/_report_forecast.html", context)),  # noqa: S308
        air=air_part(report.air),
    )
