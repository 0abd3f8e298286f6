"""What every upstream caller shares: the process-wide client, the request's deadline, and
which failures stored data may paper over."""

from __future__ import annotations

import functools
import time

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from weather.budget import UpstreamBudget
from weather.clients.openweather import (
    InvalidApiKey,
    OpenWeatherClient,
    UpstreamRateLimited,
    UpstreamUnavailable,
)
from weather.vault import VaultError, api_keys

# Failures that stored data can paper over. PlaceNotFound is an answer, not a failure.
FALLBACK_ERRORS = (UpstreamUnavailable, UpstreamRateLimited, InvalidApiKey, VaultError)


@functools.cache
def default_client() -> OpenWeatherClient:
    """Return the process-wide client: key from Vault, calls counted against the site's
    budget (an operator's refresh); requests use ``client_for`` their client."""
    return OpenWeatherClient(
        base_url=settings.OPENWEATHER_BASE_URL,
        keys=api_keys(),
        connect_timeout=settings.OPENWEATHER_CONNECT_TIMEOUT,
        read_timeout=settings.OPENWEATHER_READ_TIMEOUT,
        max_bytes=settings.OPENWEATHER_MAX_BYTES,
        budget=UpstreamBudget(),
    )


def client_for(client: str) -> OpenWeatherClient:
    """The process-wide client, spending from ``client``'s share of the budget."""
    return default_client().with_budget(UpstreamBudget(client=client))


def reset_client() -> None:
    """Forget the process-wide client, so the next call builds one from current settings."""
    default_client.cache_clear()


@receiver(setting_changed)
def _reset_client_on_settings_change(*, setting: str, **kwargs: object) -> None:
    if setting.startswith(("OPENWEATHER_", "VAULT_")):
        reset_client()


def request_deadline() -> float:
    """Return the monotonic time by which a request must be done with the upstream."""
    return time.monotonic() + settings.WEATHER_REQUEST_BUDGET
