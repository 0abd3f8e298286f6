"""The dashboard's report, rendered once per report version and reused by each worker.

The current conditions, the days, the chart and its table are most of a result page
and depend on the report alone: rendering them per view cost about 20 ms of a 26 ms
cached page view (bench/RESULTS.md). What changes per view (the "updated … ago" line,
the stale banner, the search form) stays in dashboard.html.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from weather.caching import BoundedCache
from weather.documents import UNIT_LABELS
from weather.reports import WeatherReport
from weather.summaries import daily_summaries, local_time


@dataclass(frozen=True)
class ReportParts:
    current: SafeString  # the "now" block, the details and the note on local times
    forecast: SafeString  # the other places of that name, the days, the chart and table


_parts: BoundedCache[ReportParts] = BoundedCache(256)


def report_parts(report: WeatherReport) -> ReportParts:
    """The report's parts of the page, rendered once per report version in this process."""
    return _parts.get_or_make(report.version, lambda: _render(report))


def clear_parts() -> None:
    """Forget the parts rendered so far."""
    _parts.clear()


def _render(report: WeatherReport) -> ReportParts:
    current = report.current
    context: dict[str, Any] = {
        "report": report,
        "labels": UNIT_LABELS[report.units],
        "days": daily_summaries(report.forecast),
        "sunrise": local_time(current.sunrise, current.timezone_offset),
        "sunset": local_time(current.sunset, current.timezone_offset),
    }
    # Both templates escape what they insert; the results are safe HTML as rendered.
    return ReportParts(
        current=mark_safe(render_to_string("weather/_report_current.html", context)),  # noqa: S308
        forecast=mark_safe(render_to_string("weather/_report_forecast.html", context)),  # noqa: S308
    )
