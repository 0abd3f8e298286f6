"""Each upstream call counted and logged once, sent or refused: its endpoint's label, its
outcome, its status and how long it took."""

from __future__ import annotations

import logging

from weather import metrics
from weather.errors import (
    InvalidApiKey,
    OpenWeatherError,
    PlaceNotFound,
    UpstreamRateLimited,
    UpstreamTimeout,
)

# The client's logger, not this module's: the manual documents the upstream call's line
# under that name (reference/metrics-and-logs.md), and log queries select it by it.
logger = logging.getLogger("weather.clients.openweather")

# The endpoint label of each path (weather_upstream_requests_total, the upstream log line).
ENDPOINTS = {
    "/geo/1.0/direct": "geocode",
    "/data/2.5/weather": "weather",
    "/data/2.5/forecast": "forecast",
    "/data/2.5/air_pollution": "air_pollution",
}


def outcome_of(error: OpenWeatherError) -> str:
    """The metric's outcome label for a call that ended in ``error``."""
    if isinstance(error, UpstreamTimeout):
        return "timeout"
    if isinstance(error, InvalidApiKey):
        return "invalid_key"
    if isinstance(error, UpstreamRateLimited):
        return "rate_limited"
    if isinstance(error, PlaceNotFound):
        return "not_found"
    return "error"


def record_call(
    *, endpoint: str, outcome: str, status: int | None, seconds: float | None, reason: str = ""
) -> None:
    """Count the call and log it: one INFO line per call, sent or refused."""
    metrics.upstream_call(endpoint=endpoint, outcome=outcome, seconds=seconds)
    duration_ms = None if seconds is None else round(seconds * 1000, 1)
    logger.info(
        "upstream call %s: %s (status %s, %s ms)%s",
        endpoint,
        outcome,
        status if status is not None else "-",
        duration_ms if duration_ms is not None else "-",
        f": {reason}" if reason else "",
        extra={
            "endpoint": endpoint,
            "outcome": outcome,
            "status": status,
            "duration_ms": duration_ms,
            **({"reason": reason} if reason else {}),
        },
    )
