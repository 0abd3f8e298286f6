"""What a request needs to call the upstream: the process-wide client, its share of the
budget, and the request's deadline."""

from __future__ import annotations

import time

from django.conf import settings

from weather.budget import UpstreamBudget
from weather.caching import Lazy
from weather.clients.openweather import OpenWeatherClient
from weather.vault.keycache import api_keys


def _client_from_settings() -> OpenWeatherClient:
    return OpenWeatherClient(
        base_url=settings.OPENWEATHER_BASE_URL,
        keys=api_keys(),
        connect_timeout=settings.OPENWEATHER_CONNECT_TIMEOUT,
        read_timeout=settings.OPENWEATHER_READ_TIMEOUT,
        max_bytes=settings.OPENWEATHER_MAX_BYTES,
        budget=UpstreamBudget(),
    )


default_client: Lazy[OpenWeatherClient] = Lazy(
    _client_from_settings, name="clients.default_client", cleared_by=("OPENWEATHER_", "VAULT_")
)
"""Return the process-wide client (``default_client()``): key from Vault, calls counted
against the site's budget (an operator's refresh); requests use ``client_for`` their client."""


def client_for(client: str) -> OpenWeatherClient:
    """The process-wide client, spending from ``client``'s share of the budget."""
    return default_client().with_budget(UpstreamBudget(client=client))


def request_deadline() -> float:
    """Return the monotonic time by which a request must be done with the upstream."""
    return time.monotonic() + settings.WEATHER_REQUEST_BUDGET
