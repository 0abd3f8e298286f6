"""What the fake OpenWeather answers: its endpoints and OpenWeather-shaped bodies.

Pure functions (:func:`current_weather`, :func:`forecast`, :func:`geocode`) build the bodies
of the three endpoints the project uses, with OpenWeather's field order and units; the error
bodies are OpenWeather's own. Unit tests use them too, for the JSON they stub in at the
transport.
"""

from __future__ import annotations

import json
import time
from http.client import responses
from typing import Any

from tests.fakes.climate import CONDITIONS, Sample, sample, sun_times
from tests.fakes.places import PLACES, nearest_place

__all__ = [
    "ENDPOINTS",
    "MALFORMED_BODY",
    "UNAUTHORIZED_BODY",
    "current_weather",
    "encoded",
    "error_body",
    "forecast",
    "geocode",
]

ENDPOINTS: dict[str, str] = {
    "/geo/1.0/direct": "geocode",
    "/data/2.5/weather": "weather",
    "/data/2.5/forecast": "forecast",
    "/data/2.5/air_pollution": "air_pollution",
}

UNAUTHORIZED_BODY: dict[str, Any] = {
    "cod": 401,
    "message": "Invalid API key. Please see https://openweathermap.org/faq#error401 for more info.",
}
_ERROR_BODIES: dict[int, dict[str, Any]] = {
    401: UNAUTHORIZED_BODY,
    404: {"cod": "404", "message": "city not found"},
    429: {
        "cod": 429,
        "message": "Your account is temporary blocked due to exceeding of requests limitation of"
        " your subscription type. Please choose the proper subscription"
        " https://openweathermap.org/price",
    },
}
# What an overloaded upstream proxy tends to send: a cut-off HTML page despite the 200.
MALFORMED_BODY = b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>"


def error_body(status: int) -> dict[str, Any]:
    """OpenWeather's body for an error ``status``."""
    if status in _ERROR_BODIES:
        return _ERROR_BODIES[status]
    message = "Internal server error" if status >= 500 else responses.get(status, "Error")
    return {"cod": str(status), "message": message}


def encoded(body: Any) -> bytes:
    """``body`` as compact UTF-8 JSON, as OpenWeather sends it."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def _temp(celsius: float, units: str) -> float:
    if units == "metric":
        return round(celsius, 2)
    if units == "imperial":
        return round(celsius * 9 / 5 + 32, 2)
    return round(celsius + 273.15, 2)


def _speed(mps: float, units: str) -> float:
    return round(mps * 2.236936, 2) if units == "imperial" else round(mps, 2)


def _weather_list(s: Sample) -> list[dict[str, Any]]:
    main, description, icon, _, _ = CONDITIONS[s.code]
    return [
        {
            "id": s.code,
            "main": main,
            "description": description,
            "icon": icon + ("d" if s.is_day else "n"),
        }
    ]


def _main_block(s: Sample, units: str) -> dict[str, Any]:
    return {
        "temp": _temp(s.temp, units),
        "feels_like": _temp(s.feels_like, units),
        "temp_min": _temp(s.temp_min, units),
        "temp_max": _temp(s.temp_max, units),
        "pressure": s.pressure,
        "humidity": s.humidity,
        "sea_level": s.pressure,
        "grnd_level": s.grnd_level,
    }


def _wind_block(s: Sample, units: str) -> dict[str, Any]:
    return {
        "speed": _speed(s.wind_speed, units),
        "deg": s.wind_deg,
        "gust": _speed(s.wind_gust, units),
    }


def _place_fields(lat: float, lon: float) -> tuple[int, str, str, int, int]:
    """(id, name, country, timezone, population) of the nearest place, or blanks."""
    place = nearest_place(lat, lon)
    if place is None:
        return 0, "", "", round(lon / 15.0) * 3600, 0
    return place.id, place.name, place.country, place.timezone, place.population


def current_weather(lat: float, lon: float, units: str, now: float) -> dict[str, Any]:
    """Body of ``/data/2.5/weather``."""
    dt = int(now) - int(now) % 600  # observations are published every ten minutes
    s = sample(lat, lon, dt)
    place_id, name, country, tz, _ = _place_fields(lat, lon)
    sunrise, sunset = sun_times(lat, lon, dt)
    body: dict[str, Any] = {
        "coord": {"lon": round(lon, 4), "lat": round(lat, 4)},
        "weather": _weather_list(s),
        "base": "stations",
        "main": _main_block(s, units),
        "visibility": s.visibility,
        "wind": _wind_block(s, units),
    }
    if s.precip_1h is not None:
        body["snow" if s.code == 600 else "rain"] = {"1h": s.precip_1h}
    body.update(
        {
            "clouds": {"all": s.clouds},
            "dt": dt,
            "sys": {"country": country, "sunrise": sunrise, "sunset": sunset},
            "timezone": tz,
            "id": place_id,
            "name": name,
            "cod": 200,
        }
    )
    return body


def forecast(lat: float, lon: float, units: str, now: float) -> dict[str, Any]:
    """Body of ``/data/2.5/forecast``: 40 steps on 3-hour UTC boundaries after ``now``."""
    first = (int(now) // 10800 + 1) * 10800
    items: list[dict[str, Any]] = []
    for step in range(40):
        dt = first + step * 10800
        s = sample(lat, lon, dt)
        item: dict[str, Any] = {
            "dt": dt,
            "main": {**_main_block(s, units), "temp_kf": 0},
            "weather": _weather_list(s),
            "clouds": {"all": s.clouds},
            "wind": _wind_block(s, units),
            "visibility": s.visibility,
            "pop": round(min(1.0, 0.45 + s.precip_1h / 8), 2)
            if s.precip_1h is not None
            else round(s.clouds / 500, 2),
        }
        if s.precip_1h is not None:
            item["snow" if s.code == 600 else "rain"] = {"3h": round(s.precip_1h * 2.2, 2)}
        item["sys"] = {"pod": "d" if s.is_day else "n"}
        item["dt_txt"] = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(dt))
        items.append(item)
    place_id, name, country, tz, population = _place_fields(lat, lon)
    sunrise, sunset = sun_times(lat, lon, now)
    return {
        "cod": "200",
        "message": 0,
        "cnt": len(items),
        "list": items,
        "city": {
            "id": place_id,
            "name": name,
            "coord": {"lat": round(lat, 4), "lon": round(lon, 4)},
            "country": country,
            "population": population,
            "timezone": tz,
            "sunrise": sunrise,
            "sunset": sunset,
        },
    }


def geocode(q: str, limit: int = 5) -> list[dict[str, Any]]:
    """Body of ``/geo/1.0/direct`` for ``q`` = "city[,state][,country]"."""
    parts = [p.strip().casefold() for p in q.split(",")]
    city = parts[0]
    country = parts[-1] if len(parts) >= 2 else ""
    state = parts[1] if len(parts) >= 3 else ""
    matches = [
        p
        for p in PLACES
        if city in p.names()
        and (not country or p.country.casefold() == country)
        and (not state or state in {(p.state or "").casefold(), (p.state_code or "").casefold()})
    ]
    matches.sort(key=lambda p: -p.population)
    out: list[dict[str, Any]] = []
    for p in matches[:limit]:
        entry: dict[str, Any] = {"name": p.name}
        if p.local_names:
            entry["local_names"] = dict(p.local_names)
        entry.update({"lat": p.lat, "lon": p.lon, "country": p.country})
        if p.state:
            entry["state"] = p.state
        out.append(entry)
    return out
