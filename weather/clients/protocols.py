"""The client's seams: what it needs (a key source, a budget) and what the services need
of it (``WeatherApi``), so that neither side depends on the other's implementation."""

from __future__ import annotations

from typing import Protocol

from weather.clients.air_schema import AirPollution
from weather.clients.schema import Conditions, Forecast, GeoPlace
from weather.errors import OpenWeatherError
from weather.redaction import ApiKey
from weather.units import Units


class KeySource(Protocol):
    """Where the client gets its API key: ``weather.vault.ApiKeyCache`` in the app."""

    def get(self) -> ApiKey: ...

    def invalidate(self) -> None: ...


class Budget(Protocol):
    """Spends upstream calls or raises BudgetExhausted: ``weather.budget.UpstreamBudget``."""

    def spend(self, *, refresh: bool = False, calls: int = 1) -> None: ...


class WeatherApi(Protocol):
    """What the services need of a client: ``OpenWeatherClient``, or a test's fake."""

    def geocode(
        self, query: str, *, limit: int = 5, deadline: float | None = None, refresh: bool = False
    ) -> list[GeoPlace]: ...

    def current_and_forecast(
        self,
        *,
        lat: float,
        lon: float,
        units: Units,
        deadline: float | None = None,
        refresh: bool = False,
    ) -> tuple[Conditions, Forecast]: ...

    def air_pollution(
        self, *, lat: float, lon: float, deadline: float | None = None, refresh: bool = False
    ) -> AirPollution: ...

    def current_forecast_and_air(
        self,
        *,
        lat: float,
        lon: float,
        units: Units,
        deadline: float | None = None,
        refresh: bool = False,
    ) -> tuple[Conditions, Forecast, AirPollution | OpenWeatherError]: ...
