"""The errors that several modules share, in a leaf every other module may import.

What the OpenWeather client (and the budget it spends) raises::

OpenWeatherError
├── UpstreamUnavailable   connection error, 5xx, malformed JSON,
│   │                     an answer too large, too slow or too deeply nested,
│   │                     or this request's time budget spent
│   └── UpstreamTimeout   no answer within the call's timeouts
├── UpstreamRateLimited   429
│   └── BudgetExhausted   our own per-minute or per-day cap is spent (no call made)
│       └── AllowanceExhausted   this client's share of it is spent
├── InvalidApiKey         401 (after one retry with a key re-read from Vault)
└── PlaceNotFound         404 / empty geocoding result
"""

from __future__ import annotations

from weather.vault.errors import VaultError


class OpenWeatherError(Exception):
    """Base of every error the client raises."""

    code = "upstream_error"


class UpstreamUnavailable(OpenWeatherError):
    """The upstream could not give a usable answer: timeout, 5xx, bad JSON."""

    code = "upstream_unavailable"


class UpstreamTimeout(UpstreamUnavailable):
    """The upstream did not answer within the call's timeouts (same code for visitors)."""


class UpstreamRateLimited(OpenWeatherError):
    """The upstream answered 429."""

    code = "upstream_rate_limited"


class BudgetExhausted(UpstreamRateLimited):
    """Our own upstream budget is spent; no request was sent."""

    code = "budget_exhausted"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AllowanceExhausted(BudgetExhausted):
    """This client's own share of the upstream budget is spent; no request was sent."""

    code = "allowance_exhausted"


class InvalidApiKey(OpenWeatherError):
    """The upstream rejected the key, even after re-reading it from Vault."""

    code = "invalid_api_key"


class PlaceNotFound(OpenWeatherError):
    """No place matches the query or coordinates."""

    code = "place_not_found"


# Failures that stored data can paper over: the upstream's, our budget's and Vault's (the
# client raises what reading its key raised). PlaceNotFound is an answer, not a failure.
FALLBACK_ERRORS = (UpstreamUnavailable, UpstreamRateLimited, InvalidApiKey, VaultError)
