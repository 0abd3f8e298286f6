"""OpenWeather's answers as frozen dataclasses, and the parsers that build them.

The parsers read only the fields the dashboard uses and raise ``KeyError``,
``IndexError``, ``TypeError`` or ``ValueError`` on anything else; the client turns
those into ``UpstreamUnavailable``, so a malformed answer never reaches a page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class GeoPlace:
    name: str
    country: str
    lat: float
    lon: float
    state: str = ""
    local_names: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Conditions:
    """Current weather at a place. Times are Unix seconds (UTC)."""

    observed_at: int
    timezone_offset: int
    temp: float
    feels_like: float
    temp_min: float
    temp_max: float
    humidity: int
    pressure: int
    wind_speed: float
    wind_deg: int | None
    condition_id: int
    main: str
    description: str
    icon: str
    sunrise: int | None
    sunset: int | None
    station_name: str = ""
    country: str = ""


@dataclass(frozen=True)
class ForecastStep:
    """One 3-hour step of the 5-day forecast."""

    at: int
    temp: float
    temp_min: float
    temp_max: float
    feels_like: float
    humidity: int
    condition_id: int
    main: str
    description: str
    icon: str
    wind_speed: float
    pop: float
    rain_mm: float
    snow_mm: float


@dataclass(frozen=True)
class Forecast:
    timezone_offset: int
    steps: tuple[ForecastStep, ...]


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected a number, got {type(value).__name__}")
    return float(value)


def parse_conditions(body: Mapping[str, Any]) -> Conditions:
    weather = body["weather"][0]
    main = body["main"]
    wind = body.get("wind") or {}
    sys = body.get("sys") or {}
    return Conditions(
        observed_at=int(_number(body["dt"])),
        timezone_offset=int(_number(body.get("timezone", 0))),
        temp=_number(main["temp"]),
        feels_like=_number(main.get("feels_like", main["temp"])),
        temp_min=_number(main.get("temp_min", main["temp"])),
        temp_max=_number(main.get("temp_max", main["temp"])),
        humidity=int(_number(main["humidity"])),
        pressure=int(_number(main["pressure"])),
        wind_speed=_number(wind.get("speed", 0)),
        wind_deg=int(_number(wind["deg"])) if "deg" in wind else None,
        condition_id=int(_number(weather["id"])),
        main=str(weather["main"]),
        description=str(weather["description"]),
        icon=str(weather["icon"]),
        sunrise=int(_number(sys["sunrise"])) if sys.get("sunrise") else None,
        sunset=int(_number(sys["sunset"])) if sys.get("sunset") else None,
        station_name=str(body.get("name") or ""),
        country=str(sys.get("country") or ""),
    )


def parse_forecast_step(item: Mapping[str, Any]) -> ForecastStep:
    weather = item["weather"][0]
    main = item["main"]
    return ForecastStep(
        at=int(_number(item["dt"])),
        temp=_number(main["temp"]),
        temp_min=_number(main.get("temp_min", main["temp"])),
        temp_max=_number(main.get("temp_max", main["temp"])),
        feels_like=_number(main.get("feels_like", main["temp"])),
        humidity=int(_number(main["humidity"])),
        condition_id=int(_number(weather["id"])),
        main=str(weather["main"]),
        description=str(weather["description"]),
        icon=str(weather["icon"]),
        wind_speed=_number((item.get("wind") or {}).get("speed", 0)),
        pop=_number(item.get("pop", 0)),
        rain_mm=_number((item.get("rain") or {}).get("3h", 0)),
        snow_mm=_number((item.get("snow") or {}).get("3h", 0)),
    )


def parse_forecast(body: Mapping[str, Any]) -> Forecast:
    city = body.get("city") or {}
    return Forecast(
        timezone_offset=int(_number(city.get("timezone", 0))),
        steps=tuple(parse_forecast_step(item) for item in body["list"]),
    )


def parse_geo_place(item: Mapping[str, Any]) -> GeoPlace:
    local_names = item.get("local_names") or {}
    return GeoPlace(
        name=str(item["name"]),
        country=str(item.get("country") or ""),
        state=str(item.get("state") or ""),
        lat=_number(item["lat"]),
        lon=_number(item["lon"]),
        local_names={str(k): str(v) for k, v in local_names.items()},
    )
