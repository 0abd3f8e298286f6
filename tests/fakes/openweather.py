"""A fake OpenWeather HTTP API served on loopback.

It answers the three endpoints the project uses (direct geocoding, current weather and the
5 day / 3 hour forecast) with OpenWeather's response shapes, status codes and error bodies,
for a fixed set of places. Weather values are deterministic per (location, hour) so tests can
compare responses, yet plausible enough to look right in the UI.

The bodies come from pure functions (:func:`current_weather`, :func:`forecast`,
:func:`geocode`), which unit tests also use for the JSON they stub in at the transport.

It can be driven in-process (``with FakeOpenWeather() as fake: ...``) or run standalone so
that other processes (gunicorn under test, the compose demo, the CI smoke test) can point
at it::

    python -m tests.fakes.openweather --port 8001 --key demo-key [--latency 0.15]

Tests set faults, latency and the accepted key through methods on :class:`FakeOpenWeather`.
Over HTTP it only reports: ``GET /__fake__/calls`` (the per-endpoint counters, for the
smoke test) and ``GET /__fake__/config`` (the settings, for the compose healthcheck).

Beyond honest failures it can play a hostile upstream, one of :data:`HOSTILE_MODES`
(``fake.hostile("nested")``, or ``--hostile nested`` standalone): JSON nested 100,000
deep, a body dripped one byte every 2 s, 300 MB bodies, absurd coordinates, control
characters or wrong types in every field, and error messages that echo the key.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import math
import os
import random
import signal
import socket
import socketserver
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from http.client import responses
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlencode, urlsplit

__all__ = [
    "HOSTILE_MODES",
    "PLACES",
    "FakeOpenWeather",
    "Place",
    "current_weather",
    "forecast",
    "geocode",
    "main",
]


@dataclass(frozen=True)
class Place:
    """One geocodable place; ``population`` doubles as the geocoding rank."""

    id: int
    name: str
    lat: float
    lon: float
    country: str
    population: int
    timezone: int  # standard-time offset from UTC in seconds
    state: str | None = None
    state_code: str | None = None
    local_names: dict[str, str] = field(default_factory=dict)

    def names(self) -> set[str]:
        return {self.name.casefold(), *(n.casefold() for n in self.local_names.values())}


# fmt: off
PLACES: tuple[Place, ...] = (
    Place(2643743, "London", 51.5073, -0.1276, "GB", 8_961_989, 0, "England", "ENG",
          {"en": "London", "fr": "Londres", "de": "London", "es": "Londres", "ja": "ロンドン",
           "ru": "Лондон", "zh": "伦敦"}),
    Place(6058560, "London", 42.9837, -81.2497, "CA", 383_822, -18000, "Ontario", "ON",
          {"en": "London", "fr": "London"}),
    Place(4298960, "London", 37.129, -84.0833, "US", 7_993, -18000, "Kentucky", "KY",
          {"en": "London"}),
    Place(4409896, "Springfield", 37.2153, -93.2982, "US", 169_176, -21600, "Missouri", "MO"),
    Place(4951788, "Springfield", 42.1015, -72.5898, "US", 155_929, -18000, "Massachusetts",
          "MA"),
    Place(4250542, "Springfield", 39.799, -89.644, "US", 114_394, -21600, "Illinois", "IL"),
    Place(2988507, "Paris", 48.8589, 2.32, "FR", 2_138_551, 3600, "Ile-de-France", "IDF",
          {"en": "Paris", "fr": "Paris", "ja": "パリ", "ru": "Париж"}),
    Place(4717560, "Paris", 33.6609, -95.5555, "US", 24_171, -21600, "Texas", "TX",
          {"en": "Paris"}),
    Place(3448439, "São Paulo", -23.5506, -46.6333, "BR", 12_325_232, -10800, "São Paulo", "SP",
          {"pt": "São Paulo", "en": "São Paulo", "ja": "サンパウロ"}),
    Place(2657896, "Zürich", 47.3744, 8.541, "CH", 421_878, 3600, "Zurich", "ZH",
          {"de": "Zürich", "en": "Zurich", "fr": "Zurich", "it": "Zurigo"}),
    Place(3094802, "Kraków", 50.0619, 19.9369, "PL", 779_115, 3600,
          "Lesser Poland Voivodeship", "MA", {"pl": "Kraków", "en": "Krakow", "de": "Krakau"}),
    Place(1850147, "Tokyo", 35.6828, 139.7595, "JP", 13_960_000, 32400, None, None,
          {"ja": "東京", "en": "Tokyo"}),
    Place(5128581, "New York", 40.7128, -74.006, "US", 8_804_190, -18000, "New York", "NY",
          {"en": "New York", "es": "Nueva York", "ja": "ニューヨーク"}),
    Place(2147714, "Sydney", -33.8688, 151.2093, "AU", 5_312_163, 36000, "New South Wales",
          "NSW", {"en": "Sydney"}),
    Place(3413829, "Reykjavík", 64.1466, -21.9426, "IS", 139_875, 0, "Capital Region", None,
          {"is": "Reykjavík", "en": "Reykjavik"}),
    Place(3369157, "Cape Town", -33.9249, 18.4241, "ZA", 4_618_000, 7200, "Western Cape", "WC",
          {"en": "Cape Town", "af": "Kaapstad"}),
    Place(1275339, "Mumbai", 19.076, 72.8777, "IN", 12_442_373, 19800, "Maharashtra", "MH",
          {"en": "Mumbai", "hi": "मुंबई", "mr": "मुंबई"}),
)
# fmt: on

ENDPOINTS: dict[str, str] = {
    "/geo/1.0/direct": "geocode",
    "/data/2.5/weather": "weather",
    "/data/2.5/forecast": "forecast",
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

_CONTROL_PREFIX = "/__fake__/"
_NEAREST_PLACE_KM = 50.0
# Condition code -> (main, description, icon base, relative weight, cloud cover % range).
_CONDITIONS: dict[int, tuple[str, str, str, int, tuple[int, int]]] = {
    800: ("Clear", "clear sky", "01", 30, (0, 10)),
    801: ("Clouds", "few clouds", "02", 12, (11, 25)),
    802: ("Clouds", "scattered clouds", "03", 12, (25, 50)),
    803: ("Clouds", "broken clouds", "04", 12, (51, 84)),
    804: ("Clouds", "overcast clouds", "04", 12, (85, 100)),
    500: ("Rain", "light rain", "10", 9, (75, 100)),
    501: ("Rain", "moderate rain", "10", 5, (75, 100)),
    701: ("Mist", "mist", "50", 5, (40, 100)),
    200: ("Thunderstorm", "thunderstorm with light rain", "11", 3, (75, 100)),
    600: ("Snow", "light snow", "13", 0, (75, 100)),  # only reached by converting cold rain
}


def _distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(min(1.0, math.sqrt(a)))


def nearest_place(lat: float, lon: float) -> Place | None:
    """The dataset place within ~50 km of the point, like OpenWeather's station lookup."""
    best = min(PLACES, key=lambda p: _distance_km(lat, lon, p.lat, p.lon))
    return best if _distance_km(lat, lon, best.lat, best.lon) <= _NEAREST_PLACE_KM else None


def sun_times(lat: float, lon: float, t: float) -> tuple[int, int]:
    """Sunrise and sunset (UTC epoch) of the local solar day containing ``t``.

    Ignores the equation of time; that is a few minutes off at most, which is fine here.
    """
    solar_offset = lon / 15.0 * 3600.0
    day = math.floor((t + solar_offset) / 86400.0)
    noon = day * 86400.0 + 43200.0 - solar_offset
    doy = time.gmtime(noon).tm_yday
    decl = math.radians(-23.44) * math.cos(2 * math.pi * (doy + 10) / 365.0)
    phi = math.radians(max(-89.99, min(89.99, lat)))
    # -0.833 degrees accounts for refraction and the solar disc, as almanacs do.
    cos_w = (math.sin(math.radians(-0.833)) - math.sin(phi) * math.sin(decl)) / (
        math.cos(phi) * math.cos(decl)
    )
    half_day = math.degrees(math.acos(max(-1.0, min(1.0, cos_w)))) / 15.0 * 3600.0
    return int(noon - half_day), int(noon + half_day)


def _is_day(lat: float, lon: float, t: float) -> bool:
    sunrise, sunset = sun_times(lat, lon, t)
    return sunrise <= t < sunset


def _celsius_at(lat: float, lon: float, t: float) -> float:
    """Climatological temperature: latitude, season (by hemisphere) and time of day."""
    coslat = math.cos(math.radians(lat))
    annual_mean = 29.0 * coslat**1.5 - 3.0
    doy = time.gmtime(t).tm_yday
    winter_peak = math.cos(2 * math.pi * (doy - 15) / 365.0)  # +1 mid-January
    seasonal = -0.16 * lat * winter_peak
    solar_hour = ((t + lon / 15.0 * 3600.0) % 86400.0) / 3600.0
    diurnal = 4.0 * math.cos(2 * math.pi * (solar_hour - 15.0) / 24.0)
    return float(annual_mean + seasonal + diurnal)


@dataclass(frozen=True)
class _Sample:
    """Weather at one place and hour, in metric units; converted per request."""

    code: int
    is_day: bool
    temp: float
    feels_like: float
    temp_min: float
    temp_max: float
    pressure: int
    grnd_level: int
    humidity: int
    visibility: int
    wind_speed: float
    wind_deg: int
    wind_gust: float
    clouds: int
    precip_1h: float | None


def _sample(lat: float, lon: float, t: float) -> _Sample:
    hour = int(t // 3600)
    # A string seed is hashed the same way in every process, unlike hash() of a tuple.
    rng = random.Random(f"{lat:.2f}:{lon:.2f}:{hour}")  # noqa: S311 - not for secrets
    temp = _celsius_at(lat, lon, hour * 3600.0) + rng.gauss(0.0, 1.5)
    codes = list(_CONDITIONS)
    code = rng.choices(codes, weights=[_CONDITIONS[c][3] for c in codes])[0]
    if code == 200 and temp < 15.0:
        code = 501
    if code in (500, 501) and temp < 1.0:
        code = 600
    precip: float | None = None
    if code in (500, 200):
        precip = round(rng.uniform(0.1, 2.5), 2)
    elif code == 501:
        precip = round(rng.uniform(2.5, 7.6), 2)
    elif code == 600:
        precip = round(rng.uniform(0.1, 1.0), 2)
    lo, hi = _CONDITIONS[code][4]
    humidity = rng.randint(80, 100) if precip is not None or code == 701 else rng.randint(35, 85)
    wind = round(rng.uniform(0.3, 12.0 if code == 200 else 8.0), 2)
    # Wind chill below 10 °C, mugginess above 25 °C; crude but in the right direction.
    feels = temp - 0.7 * wind if temp < 10.0 else temp + max(0.0, temp - 25.0) * humidity / 200
    pressure = rng.randint(1000, 1030) if precip is None else rng.randint(985, 1010)
    return _Sample(
        code=code,
        is_day=_is_day(lat, lon, t),
        temp=temp,
        feels_like=feels,
        temp_min=temp - rng.uniform(0.0, 1.5),
        temp_max=temp + rng.uniform(0.0, 1.5),
        pressure=pressure,
        grnd_level=pressure - rng.randint(0, 15),
        humidity=humidity,
        visibility=(
            rng.randint(1500, 5000)
            if code == 701
            else rng.randint(5000, 10000)
            if precip is not None
            else 10000
        ),
        wind_speed=wind,
        wind_deg=rng.randrange(360),
        wind_gust=round(wind * rng.uniform(1.1, 1.8), 2),
        clouds=rng.randint(lo, hi),
        precip_1h=precip,
    )


def _temp(celsius: float, units: str) -> float:
    if units == "metric":
        return round(celsius, 2)
    if units == "imperial":
        return round(celsius * 9 / 5 + 32, 2)
    return round(celsius + 273.15, 2)


def _speed(mps: float, units: str) -> float:
    return round(mps * 2.236936, 2) if units == "imperial" else round(mps, 2)


def _weather_list(s: _Sample) -> list[dict[str, Any]]:
    main, description, icon, _, _ = _CONDITIONS[s.code]
    return [
        {
            "id": s.code,
            "main": main,
            "description": description,
            "icon": icon + ("d" if s.is_day else "n"),
        }
    ]


def _main_block(s: _Sample, units: str) -> dict[str, Any]:
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


def _wind_block(s: _Sample, units: str) -> dict[str, Any]:
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
    s = _sample(lat, lon, dt)
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
        s = _sample(lat, lon, dt)
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


@dataclass(frozen=True)
class _Fault:
    kind: str  # "status", "malformed" or "hostile"
    status: int
    mode: str | None = None  # which of HOSTILE_MODES, for "hostile"


def _error_body(status: int) -> dict[str, Any]:
    if status in _ERROR_BODIES:
        return _ERROR_BODIES[status]
    message = "Internal server error" if status >= 500 else responses.get(status, "Error")
    return {"cod": str(status), "message": message}


# -- a hostile upstream ---------------------------------------------------------------------


@dataclass(frozen=True)
class Streamed:
    """A body written piece by piece, so that it never has to exist whole in memory.

    ``length`` is the Content-Length sent (None: chunked transfer encoding); ``pause`` is
    how long to wait before each piece.
    """

    pieces: Iterable[bytes]
    length: int | None
    pause: float = 0.0
    headers: tuple[tuple[str, str], ...] = ()


Answer = tuple[int, Any]  # (status, a JSON-able body, raw bytes or a Streamed body)

NESTING_DEPTH = 100_000
OVERSIZED_BYTES = 300_000_000
ABSURD_LAT, ABSURD_LON = 12345.678, -999.0
# C0 and C1 controls, an ANSI escape and a line break (log and header injection).
CONTROL_CHARACTERS = "\x00\x01\x07\x08\x0b\x0c\x1b[2J\r\n\x7f\x85\x9b"
_PIECE_BYTES = 64 * 1024
_ENDPOINT_PATHS = {name: path for path, name in ENDPOINTS.items()}


def _padding_pieces(total: int, *, piece: int = _PIECE_BYTES) -> Iterator[bytes]:
    """``total`` bytes of one JSON object, ``{"cod":200,"padding":"   ...   "}``, lazily."""
    head, tail = b'{"cod":200,"padding":"', b'"}'
    yield head
    left = total - len(head) - len(tail)
    blank = b" " * piece
    while left > 0:
        yield blank[: min(piece, left)]
        left -= piece
    yield tail


@functools.cache
def _gzip_bomb() -> bytes:
    """:data:`OVERSIZED_BYTES` of JSON, gzipped to about 300 KB (made once, on first use)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: the gzip container
    packed = [packer.compress(piece) for piece in _padding_pieces(OVERSIZED_BYTES)]
    return b"".join([*packed, packer.flush()])


def _invented_place(q: str) -> dict[str, Any]:
    """A place for a name the dataset lacks, at coordinates that follow from the name."""
    name = q.split(",")[0].strip() or "Nowhere"
    h = zlib.crc32(q.casefold().encode())
    lat = round(-60 + (h % 120_000) / 1000, 4)
    lon = round(-170 + (h // 120_000 % 340_000) / 1000, 4)
    return {"name": name, "local_names": {"en": name}, "lat": lat, "lon": lon,
            "country": "ZZ", "state": "Nowhere"}  # fmt: skip


def _plausible(fake: FakeOpenWeather, endpoint: str, query: dict[str, str]) -> Answer:
    """The honest answer, where a geocoding query that matches nothing gets an invented
    place: a hostile upstream answers whatever it is asked."""
    status, body = fake._honest_answer(endpoint, query)
    if endpoint == "geocode" and status == 200 and not body:
        body = [_invented_place(query.get("q", ""))]
    return status, body


def _encoded(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def _nested(fake: FakeOpenWeather, endpoint: str, query: dict[str, str]) -> Answer:
    return 200, b"[" * NESTING_DEPTH + b"]" * NESTING_DEPTH


def _drip(fake: FakeOpenWeather, endpoint: str, query: dict[str, str]) -> Answer:
    status, body = _plausible(fake, endpoint, query)
    raw = body if isinstance(body, bytes) else _encoded(body)
    pieces = (raw[i : i + 1] for i in range(len(raw)))
    return status, Streamed(pieces, len(raw), pause=fake.drip_interval)


def _oversized(fake: FakeOpenWeather, endpoint: str, query: dict[str, str]) -> Answer:
    return 200, Streamed(_padding_pieces(OVERSIZED_BYTES), OVERSIZED_BYTES)


def _oversized_chunked(fake: FakeOpenWeather, endpoint: str, query: dict[str, str]) -> Answer:
    return 200, Streamed(_padding_pieces(OVERSIZED_BYTES), None)


def _oversized_gzip(fake: FakeOpenWeather, endpoint: str, query: dict[str, str]) -> Answer:
    bomb = _gzip_bomb()
    pieces = (bomb[i : i + _PIECE_BYTES] for i in range(0, len(bomb), _PIECE_BYTES))
    return 200, Streamed(pieces, len(bomb), headers=(("Content-Encoding", "gzip"),))


def _absurd_coordinates(fake: FakeOpenWeather, endpoint: str, query: dict[str, str]) -> Answer:
    status, body = _plausible(fake, endpoint, query)
    if endpoint != "geocode" or status != 200:
        return status, body
    # Two impossible entries first, then the real ones: a careful client keeps only those.
    first = body[0]
    return status, [
        {**first, "lat": ABSURD_LAT, "lon": ABSURD_LON},
        {**first, "lat": 90.5, "lon": 180.5},
        *body,
    ]


def _poisoned(text: str) -> str:
    """``text`` with control characters at its ends and in its middle."""
    middle = len(text) // 2
    return f"\x00{text[:middle]}{CONTROL_CHARACTERS}{text[middle:]}\x07\r\n"


def _with_controls(value: Any, *, keys_too: bool = False) -> Any:
    if isinstance(value, str):
        return _poisoned(value)
    if isinstance(value, list):
        return [_with_controls(item) for item in value]
    if isinstance(value, dict):
        return {
            (_poisoned(k) if keys_too else k): _with_controls(v, keys_too=k == "local_names")
            for k, v in value.items()
        }
    return value


def _control_characters(fake: FakeOpenWeather, endpoint: str, query: dict[str, str]) -> Answer:
    status, body = _plausible(fake, endpoint, query)
    return status, _with_controls(body) if status == 200 else body


class _WrongTypes:
    """Gives each field in turn a different wrong type; containers become the other kind."""

    def __init__(self) -> None:
        self.turn = 0

    def _next(self, choices: list[Any]) -> Any:
        self.turn += 1
        return choices[self.turn % len(choices)]

    def __call__(self, value: Any, depth: int = 0) -> Any:
        if isinstance(value, bool) or value is None:
            return self._next(["yes", None, 1])
        if isinstance(value, (int, float)):
            return self._next([f"about {value}", None, {"value": value}, [value], True])
        if isinstance(value, str):
            return self._next([None, 42, [value], {"text": value}, False])
        if isinstance(value, list):
            items = [self(item, depth + 1) for item in value]
            # The geocoding list and its entries stay as they are, so each field is reached.
            return items if depth == 0 else {str(i): item for i, item in enumerate(items)}
        if isinstance(value, dict):
            fields = {k: self(v, depth + 1) for k, v in value.items()}
            return fields if depth <= 1 else list(fields.values())
        return value


def _wrong_types(fake: FakeOpenWeather, endpoint: str, query: dict[str, str]) -> Answer:
    status, body = _plausible(fake, endpoint, query)
    return status, _WrongTypes()(body) if status == 200 else body


def _key_echo_401(fake: FakeOpenWeather, endpoint: str, query: dict[str, str]) -> Answer:
    appid = query.get("appid", "")
    message = f"Invalid API key {appid}. Please see https://openweathermap.org/faq#error401"
    return 401, {"cod": 401, "message": message, "appid": appid}


def _key_echo_500(fake: FakeOpenWeather, endpoint: str, query: dict[str, str]) -> Answer:
    request = f"{_ENDPOINT_PATHS[endpoint]}?{urlencode(query)}"
    return 500, {"cod": "500", "message": f"Internal error serving {request}", "request": query}


@dataclass(frozen=True)
class HostileMode:
    description: str
    answer: Callable[[FakeOpenWeather, str, dict[str, str]], Answer]
    status: int = 200  # what it answers with, as /__fake__/config reports it


# Every hostile mode, in one place: what it does and how it answers.
HOSTILE_MODES: dict[str, HostileMode] = {
    "nested": HostileMode(f"a 200 whose JSON nests {NESTING_DEPTH:,} arrays deep", _nested),
    "drip": HostileMode(
        "headers at once, then the real body one byte every `drip_interval` (2 s)", _drip
    ),
    "oversized": HostileMode(f"a 200 declaring and sending {OVERSIZED_BYTES:,} bytes", _oversized),
    "oversized-chunked": HostileMode(
        f"{OVERSIZED_BYTES:,} bytes sent chunked, with no length declared", _oversized_chunked
    ),
    "oversized-gzip": HostileMode(
        f"about 300 KB of gzip that inflates to {OVERSIZED_BYTES:,} bytes", _oversized_gzip
    ),
    "absurd-coordinates": HostileMode(
        f"geocoding entries at lat {ABSURD_LAT}, lon {ABSURD_LON} and at 90.5, 180.5 before"
        " the real ones; weather answers as usual",
        _absurd_coordinates,
    ),
    "control-characters": HostileMode(
        "NUL and other control characters in every string (and local-name language codes)",
        _control_characters,
    ),
    "wrong-types": HostileMode(
        "every field of the real answer with a wrong type: strings for numbers, objects for"
        " lists, lists for objects, null",
        _wrong_types,
    ),
    "key-echo-401": HostileMode(
        "a 401 whose message echoes the key it was sent", _key_echo_401, status=401
    ),
    "key-echo-500": HostileMode(
        "a 500 whose message echoes the request, key included", _key_echo_500, status=500
    ),
}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeOpenWeather

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn) that can stall for seconds.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet: clients hanging up mid-response are routine here."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "openresty"
    sys_version = ""
    timeout = 60  # lets idle keep-alive connections go eventually

    def setup(self) -> None:
        super().setup()
        self.server.fake._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.fake._track(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:
        """Log nothing: request lines carry the key (``appid``)."""

    def _send(self, status: int, body: bytes | Streamed | Any) -> None:
        if isinstance(body, Streamed):
            self._stream(status, body)
            return
        if not isinstance(body, bytes):
            body = _encoded(body)
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _stream(self, status: int, body: Streamed) -> None:
        """Write ``body`` piece by piece, until it ends, the client leaves or the fake stops."""
        self.close_connection = True  # whatever the client read of it, the connection is spent
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        for name, value in body.headers:
            self.send_header(name, value)
        chunked = body.length is None
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(body.length))
        self.end_headers()
        stopping = self.server.fake._stopping
        with contextlib.suppress(OSError):  # the client hung up: routine here
            for piece in body.pieces:
                if stopping.wait(body.pause) if body.pause else stopping.is_set():
                    return
                self.wfile.write(b"%x\r\n%b\r\n" % (len(piece), piece) if chunked else piece)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        fake = self.server.fake
        if url.path == f"{_CONTROL_PREFIX}calls":
            self._send(200, fake.call_counts())
        elif url.path == f"{_CONTROL_PREFIX}config":
            self._send(200, fake.config())
        elif url.path in ENDPOINTS:
            self._send(*fake._answer(ENDPOINTS[url.path], query))
        else:
            self._send(404, {"cod": "404", "message": "Internal error"})


def _float_param(query: dict[str, str], name: str, bound: float) -> float | None:
    try:
        value = float(query[name])
    except (KeyError, ValueError):
        return None
    return value if math.isfinite(value) and -bound <= value <= bound else None


class FakeOpenWeather:
    """OpenWeather look-alike with a settable fault, latency and key, and per-endpoint counters."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str = "test-key",
        latency: float = 0.0,
    ) -> None:
        self.host = host
        self.port = port
        self.api_key = api_key
        self.latency = latency  # seconds added to every API answer
        self.drip_interval = 2.0  # seconds between the bytes of a "drip" answer
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._fault: _Fault | None = None
        self._calls: dict[str, int] = {}
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.reset()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        if self._server is not None:
            raise RuntimeError("already started")
        server = _Server((self.host, self.port), _Handler)
        server.fake = self
        self._stopping.clear()
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"fake-openweather-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()  # ends answers still being streamed
        server.shutdown()
        server.server_close()
        # Idle keep-alive connections would otherwise keep answering after stop().
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- what tests change -------------------------------------------------------------------

    def set_api_key(self, key: str) -> None:
        """Accept ``key`` from now on, and no other (a rotation)."""
        self.api_key = key

    def fail(self, status: int) -> None:
        """Answer every API request with ``status`` and OpenWeather's error body, until cleared."""
        self._fault = _Fault("status", status)

    def malformed(self) -> None:
        """Answer every API request with a 200 whose body is not JSON, until cleared."""
        self._fault = _Fault("malformed", 200)

    def hostile(self, mode: str) -> None:
        """Answer every API request as the hostile upstream ``mode`` does, until cleared.

        The modes are :data:`HOSTILE_MODES`; like the other faults they come before the
        key check, and the counters still count each request.
        """
        if mode not in HOSTILE_MODES:
            raise ValueError(f"unknown hostile mode {mode!r}; one of {', '.join(HOSTILE_MODES)}")
        self._fault = _Fault("hostile", HOSTILE_MODES[mode].status, mode)

    def clear_faults(self) -> None:
        self._fault = None

    def call_counts(self) -> dict[str, int]:
        """API requests per endpoint, refused ones included, and how many had a wrong key."""
        with self._lock:
            return dict(self._calls)

    def reset(self) -> None:
        """Zero the counters and clear the fault; latency and key are left as they are."""
        with self._lock:
            self._calls = {name: 0 for name in (*ENDPOINTS.values(), "unauthorized")}
        self._fault = None

    def config(self) -> dict[str, Any]:
        """Current settings, safe to show: the key itself is never included."""
        return {"latency": self.latency, "fault": self._fault and asdict(self._fault)}

    # -- request handling --------------------------------------------------------------------

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            (self._connections.add if add else self._connections.discard)(conn)

    def _answer(self, endpoint: str, query: dict[str, str]) -> Answer:
        with self._lock:
            self._calls[endpoint] += 1
        if self.latency:
            time.sleep(self.latency)
        # Faults come before the key check: an upstream outage fails every caller alike.
        fault = self._fault
        if fault is not None and fault.kind == "malformed":
            return fault.status, MALFORMED_BODY
        if fault is not None and fault.mode is not None:
            return HOSTILE_MODES[fault.mode].answer(self, endpoint, query)
        if fault is not None:
            return fault.status, _error_body(fault.status)
        return self._honest_answer(endpoint, query)

    def _honest_answer(self, endpoint: str, query: dict[str, str]) -> Answer:
        if query.get("appid") != self.api_key:
            with self._lock:
                self._calls["unauthorized"] += 1
            return 401, UNAUTHORIZED_BODY
        if endpoint == "geocode":
            q = query.get("q", "").strip()
            if not q:
                return 400, {"cod": "400", "message": "Nothing to geocode"}
            try:
                limit = max(1, min(5, int(query.get("limit", "5"))))
            except ValueError:
                limit = 5
            return 200, geocode(q, limit)
        lat = _float_param(query, "lat", 90.0)
        if lat is None:
            return 400, {"cod": "400", "message": "wrong latitude"}
        lon = _float_param(query, "lon", 180.0)
        if lon is None:
            return 400, {"cod": "400", "message": "wrong longitude"}
        units = query.get("units", "standard")
        if units not in ("standard", "metric", "imperial"):
            units = "standard"
        build = current_weather if endpoint == "weather" else forecast
        return 200, build(lat, lon, units, time.time())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakes.openweather",
        description="Serve a fake OpenWeather API on loopback.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default: loopback)")
    parser.add_argument("--port", type=int, default=8001, help="0 picks a free port")
    parser.add_argument(
        "--key",
        default=os.environ.get("FAKE_OPENWEATHER_KEY", "test-key"),
        help="accepted appid (default: $FAKE_OPENWEATHER_KEY or test-key)",
    )
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per request")
    parser.add_argument(
        "--hostile",
        choices=HOSTILE_MODES,
        metavar="MODE",
        help="answer as a hostile upstream: "
        + "; ".join(f"{name}: {mode.description}" for name, mode in HOSTILE_MODES.items()),
    )
    args = parser.parse_args(argv)

    fake = FakeOpenWeather(host=args.host, port=args.port, api_key=args.key, latency=args.latency)
    if args.hostile:
        fake.hostile(args.hostile)
    stop = threading.Event()

    def _on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    try:
        fake.start()
    except OSError as exc:
        print(f"fake OpenWeather: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    print(f"fake OpenWeather listening on {fake.base_url}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
