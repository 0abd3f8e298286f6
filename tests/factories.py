"""Builders for the client's dataclasses and geocoder answers, shared by the unit tests."""

from __future__ import annotations

from weather.clients.air_schema import AirPollution
from weather.clients.schema import Conditions, Forecast, ForecastStep, GeoPlace

FIRST_STEP = 1764147600  # 2025-11-26 09:00 UTC

LONDONS = [
    GeoPlace(name="London", country="GB", state="England", lat=51.5073219, lon=-0.1276474),
    GeoPlace(name="London", country="CA", state="Ontario", lat=42.9836747, lon=-81.2496068),
    GeoPlace(name="London", country="US", state="Kentucky", lat=37.1289771, lon=-84.0832646),
]
PARISES = [
    GeoPlace(name="Paris", country="FR", state="Ile-de-France", lat=48.8589, lon=2.32),
    GeoPlace(name="Paris", country="US", state="Texas", lat=33.6609, lon=-95.5555),
]
SPRINGFIELDS = [
    GeoPlace(name="Springfield", country="US", state="Missouri", lat=37.2153, lon=-93.2982),
    GeoPlace(name="Springfield", country="US", state="Illinois", lat=39.799, lon=-89.644),
]
GEOCODER_ANSWERS = {"london": LONDONS, "paris": PARISES, "springfield": SPRINGFIELDS}


def conditions(temp: float = 11.0) -> Conditions:
    """Clear skies at ``temp``, observed at 2025-11-26 07:13 UTC at a station in GB."""
    return Conditions(
        observed_at=1764140000,
        timezone_offset=0,
        temp=temp,
        feels_like=temp - 1,
        temp_min=temp - 2,
        temp_max=temp + 2,
        humidity=70,
        pressure=1012,
        wind_speed=3.0,
        wind_deg=200,
        condition_id=800,
        main="Clear",
        description="clear sky",
        icon="01d",
        sunrise=1764142000,
        sunset=1764172000,
        station_name="Somewhere",
        country="GB",
    )


def forecast(offset: int = 0) -> Forecast:
    """Forty 3-hour steps of light rain from FIRST_STEP, in a place ``offset`` s from UTC."""
    steps = tuple(
        ForecastStep(
            at=FIRST_STEP + 10800 * i,
            temp=5.0 + i % 8,
            temp_min=4.0 + i % 8,
            temp_max=6.0 + i % 8,
            feels_like=4.0,
            humidity=80,
            condition_id=500,
            main="Rain",
            description="light rain",
            icon="10d",
            wind_speed=2.0,
            pop=0.1 * (i % 10),
            rain_mm=0.5,
            snow_mm=0.0,
        )
        for i in range(40)
    )
    return Forecast(timezone_offset=offset, steps=steps)


def air_pollution(aqi: int = 2, pm2_5: float = 8.4) -> AirPollution:
    """An hour of air as OpenWeather reports it (its own field names, µg/m³)."""
    return AirPollution(
        aqi=aqi,
        measured_at=1_700_000_000,
        components={"pm2_5": pm2_5, "pm10": 11.9, "o3": 68.0, "no2": 12.4, "co": 201.8},
    )
