"""An in-process stand-in for ``OpenWeatherClient``: answers from tests.factories, counts calls.

Injected where a test is about the services (places, reports), not about HTTP; tests
of the client itself stub HTTP at the transport instead.
"""

from __future__ import annotations

from collections import Counter

from tests.factories import GEOCODER_ANSWERS, air_pollution, conditions, forecast
from weather.clients.air_schema import AirPollution
from weather.clients.schema import Conditions, Forecast, GeoPlace
from weather.errors import OpenWeatherError, PlaceNotFound
from weather.units import Units


class FakeClient:
    """Geocodes a few names exactly, as OpenWeather's direct geocoding does, and has weather
    and air for any point. ``calls`` counts calls per endpoint and ``geocoded`` per query; an
    error set in ``geocode_error``, ``weather_error`` or ``air_error`` is raised by every such
    call."""

    def __init__(
        self,
        *,
        geocode_error: Exception | None = None,
        weather_error: Exception | None = None,
        air_error: Exception | None = None,
    ) -> None:
        self.calls: Counter[str] = Counter()
        self.geocoded: Counter[str] = Counter()
        self.answers: dict[str, list[GeoPlace]] = dict(GEOCODER_ANSWERS)
        self.geocode_error = geocode_error
        self.weather_error = weather_error
        self.air_error = air_error

    def geocode(
        self, query: str, *, limit: int = 5, deadline: float | None = None, refresh: bool = False
    ) -> list[GeoPlace]:
        self.calls["geocode"] += 1
        self.geocoded[query] += 1
        if self.geocode_error is not None:
            raise self.geocode_error
        if query not in self.answers:
            raise PlaceNotFound("none")
        return self.answers[query]

    def current(
        self,
        *,
        lat: float,
        lon: float,
        units: Units,
        deadline: float | None = None,
        refresh: bool = False,
    ) -> Conditions:
        self.calls["current"] += 1
        if self.weather_error is not None:
            raise self.weather_error
        return conditions(temp=52.0 if units == "imperial" else 11.0)

    def forecast(
        self,
        *,
        lat: float,
        lon: float,
        units: Units,
        deadline: float | None = None,
        refresh: bool = False,
    ) -> Forecast:
        self.calls["forecast"] += 1
        if self.weather_error is not None:
            raise self.weather_error
        return forecast()

    def current_and_forecast(
        self,
        *,
        lat: float,
        lon: float,
        units: Units,
        deadline: float | None = None,
        refresh: bool = False,
    ) -> tuple[Conditions, Forecast]:
        return (
            self.current(lat=lat, lon=lon, units=units, deadline=deadline, refresh=refresh),
            self.forecast(lat=lat, lon=lon, units=units, deadline=deadline, refresh=refresh),
        )

    def current_forecast_and_air(
        self,
        *,
        lat: float,
        lon: float,
        units: Units,
        deadline: float | None = None,
        refresh: bool = False,
    ) -> tuple[Conditions, Forecast, AirPollution | OpenWeatherError]:
        current, forecast = self.current_and_forecast(
            lat=lat, lon=lon, units=units, deadline=deadline, refresh=refresh
        )
        try:
            air: AirPollution | OpenWeatherError = self.air_pollution(
                lat=lat, lon=lon, deadline=deadline, refresh=refresh
            )
        except OpenWeatherError as exc:
            air = exc
        return current, forecast, air

    def air_pollution(
        self, *, lat: float, lon: float, deadline: float | None = None, refresh: bool = False
    ) -> AirPollution:
        self.calls["air_pollution"] += 1
        if self.air_error is not None:
            raise self.air_error
        return air_pollution()
