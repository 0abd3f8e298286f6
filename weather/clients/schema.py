"""OpenWeather's answers as frozen dataclasses, validated where they enter.

Each dataclass checks its own fields when it is built, whether from an upstream
answer (the parsers below) or from a payload stored earlier (``reports``): numbers
are finite and in range, text is cleaned and masked (``clean_text``) with a bounded length,
country codes are two ASCII letters, icons are OpenWeather's codes. So nothing the
upstream sends, and nothing stored, can make a page fail.

The parsers raise ``KeyError``, ``IndexError``, ``TypeError``, ``ValueError`` or
``AttributeError`` on an answer they cannot use; the client turns those into
``UpstreamUnavailable``, which stale data can cover. What a partial answer leaves
out is said, not invented: a step without ``pop`` has ``pop=None`` (its volumes
still tell rain from dry), an answer without a UTC offset has ``timezone_offset=None``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from weather.redaction import clean, mask

# Wide enough for any real reading in any units (K, °C, °F), narrow enough for a chart.
_TEMPERATURE = (-150.0, 400.0)
_OFFSET = (-14 * 3600, 14 * 3600)  # UTC-14:00 .. UTC+14:00, the offsets in use
_TIME = (0, 4_102_444_800)  # 1970 .. 2100
_COUNTRY = re.compile(r"[A-Z]{2}")
_ICON = re.compile(r"\d\d[dn]")
_TEXT_LIMIT = 200
# OpenWeather's 5-day forecast is 40 three-hour steps. Whatever the upstream sends, a
# forecast keeps at most this many, within this span: the chart, the table and the
# page have a size bounded by design, not by the dates an answer claims.
MAX_FORECAST_STEPS = 48
MAX_FORECAST_SPAN = 6 * 86_400
_MAX_LOCAL_NAMES = 100


def _number(value: Any, low: float = -math.inf, high: float = math.inf) -> float:
    """A finite JSON number within [low, high]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected a number, got {type(value).__name__}")
    try:
        number = float(value)
    except OverflowError as exc:  # a JSON integer too large for a float (10**400)
        raise ValueError("a number too large for a float") from exc
    if not (math.isfinite(number) and low <= number <= high):
        raise ValueError(f"{number!r} is outside {low}..{high}")
    return number


def _whole(value: Any, low: float = -math.inf, high: float = math.inf) -> int:
    """A JSON number within [low, high], rounded (humidity 76.5 is 77, not 76)."""
    return round(_number(value, low, high))


def _optional_whole(value: Any, low: float, high: float) -> int | None:
    return None if value is None else _whole(value, low, high)


def clean_text(value: Any, limit: int = _TEXT_LIMIT) -> str:
    """Upstream text as it may be shown: validated (a string), cleaned (no control or format
    character: what a reader would not see, or would see reordered), masked (no secret in
    any form a reader would recognise) and only then cut to ``limit`` characters, so a cut
    cannot leave part of a secret behind. The one way upstream text enters the app."""
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    return mask(clean(value)).strip()[:limit]


_text = clean_text


def _optional_text(value: Any) -> str:
    return _text(value) if isinstance(value, str) else ""


def _country(value: Any) -> str:
    """An ISO 3166 alpha-2 code, or "" (ocean points and odd answers have none)."""
    code = _optional_text(value).upper()
    return code if _COUNTRY.fullmatch(code) else ""


def _icon(value: Any) -> str:
    """OpenWeather's icon code ("10d"), or "" for anything else."""
    code = _optional_text(value)
    return code if _ICON.fullmatch(code) else ""


def _set(obj: object, name: str, value: Any) -> None:
    object.__setattr__(obj, name, value)  # frozen dataclasses clean their own fields


@dataclass(frozen=True)
class GeoPlace:
    name: str
    country: str
    lat: float
    lon: float
    state: str = ""
    local_names: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        name = _text(self.name)
        if not name:
            raise ValueError("a place needs a name")
        _set(self, "name", name)
        _set(self, "country", _country(self.country))
        _set(self, "state", _optional_text(self.state))
        _set(self, "lat", _number(self.lat, -90, 90))
        _set(self, "lon", _number(self.lon, -180, 180))
        if not isinstance(self.local_names, Mapping):
            raise TypeError("local_names is not an object")
        names = {
            _text(language, 20): _text(local)
            for language, local in list(self.local_names.items())[:_MAX_LOCAL_NAMES]
            if isinstance(language, str) and isinstance(local, str)
        }
        _set(self, "local_names", {k: v for k, v in names.items() if k and v})


@dataclass(frozen=True)
class Conditions:
    """Current weather at a place. Times are Unix seconds (UTC); ``timezone_offset`` is
    the place's offset from UTC in seconds, None when the upstream did not say."""

    observed_at: int
    timezone_offset: int | None
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

    def __post_init__(self) -> None:
        _set(self, "observed_at", _whole(self.observed_at, *_TIME))
        _set(self, "timezone_offset", _optional_whole(self.timezone_offset, *_OFFSET))
        for name in ("temp", "feels_like", "temp_min", "temp_max"):
            _set(self, name, _number(getattr(self, name), *_TEMPERATURE))
        _set(self, "humidity", _whole(self.humidity, 0, 100))
        _set(self, "pressure", _whole(self.pressure, 0, 2000))
        _set(self, "wind_speed", _number(self.wind_speed, 0, 500))
        _set(self, "wind_deg", _optional_whole(self.wind_deg, 0, 360))
        _set(self, "condition_id", _whole(self.condition_id, 0, 999))
        _set(self, "main", _text(self.main))
        _set(self, "description", _text(self.description))
        _set(self, "icon", _icon(self.icon))
        # 0 is how OpenWeather says "no sunrise today" (polar night and day).
        _set(self, "sunrise", _optional_whole(self.sunrise or None, *_TIME))
        _set(self, "sunset", _optional_whole(self.sunset or None, *_TIME))
        _set(self, "station_name", _optional_text(self.station_name))
        _set(self, "country", _country(self.country))


@dataclass(frozen=True)
class ForecastStep:
    """One 3-hour step of the 5-day forecast; ``pop`` is None when the upstream left it out."""

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
    pop: float | None
    rain_mm: float
    snow_mm: float

    def __post_init__(self) -> None:
        _set(self, "at", _whole(self.at, *_TIME))
        for name in ("temp", "temp_min", "temp_max", "feels_like"):
            _set(self, name, _number(getattr(self, name), *_TEMPERATURE))
        _set(self, "humidity", _whole(self.humidity, 0, 100))
        _set(self, "condition_id", _whole(self.condition_id, 0, 999))
        _set(self, "main", _text(self.main))
        _set(self, "description", _text(self.description))
        _set(self, "icon", _icon(self.icon))
        _set(self, "wind_speed", _number(self.wind_speed, 0, 500))
        _set(self, "pop", None if self.pop is None else _number(self.pop, 0, 1))
        _set(self, "rain_mm", _number(self.rain_mm, 0, 1000))
        _set(self, "snow_mm", _number(self.snow_mm, 0, 1000))

    @property
    def precipitation_mm(self) -> float:
        return self.rain_mm + self.snow_mm


@dataclass(frozen=True)
class Forecast:
    """The steps in time order, one per time, all within ``MAX_FORECAST_SPAN`` of each other
    and at most ``MAX_FORECAST_STEPS``; ``timezone_offset`` as in ``Conditions``."""

    timezone_offset: int | None
    steps: tuple[ForecastStep, ...]

    def __post_init__(self) -> None:
        _set(self, "timezone_offset", _optional_whole(self.timezone_offset, *_OFFSET))
        by_time: dict[int, ForecastStep] = {}
        for step in self.steps:
            if not isinstance(step, ForecastStep):
                raise TypeError("a forecast holds ForecastSteps")
            by_time.setdefault(step.at, step)  # the first of two steps at one time
        ordered = [by_time[at] for at in sorted(by_time)]
        _set(self, "steps", tuple(_densest_window(ordered)[:MAX_FORECAST_STEPS]))


def _densest_window(steps: list[ForecastStep]) -> list[ForecastStep]:
    """The longest run of ``steps`` (in time order) within ``MAX_FORECAST_SPAN``, the
    earliest of equals: two steps dated 1970 and 2100 among forty real ones are dropped,
    and the forty kept."""
    best_start, best_end, start = 0, 0, 0
    for end, step in enumerate(steps, start=1):
        while step.at - steps[start].at > MAX_FORECAST_SPAN:
            start += 1
        if end - start > best_end - best_start:
            best_start, best_end = start, end
    return steps[best_start:best_end]


def _readings(item: Mapping[str, Any]) -> dict[str, Any]:
    """What current weather and a forecast step share: their "main" and "weather" blocks."""
    main, weather = item["main"], item["weather"][0]
    return {
        "temp": main["temp"],
        "feels_like": main.get("feels_like", main["temp"]),
        "temp_min": main.get("temp_min", main["temp"]),
        "temp_max": main.get("temp_max", main["temp"]),
        "humidity": main["humidity"],
        "condition_id": weather["id"],
        "main": weather["main"],
        "description": weather["description"],
        "icon": weather["icon"],
    }


def parse_conditions(body: Mapping[str, Any]) -> Conditions:
    wind = body.get("wind") or {}
    sys = body.get("sys") or {}
    return Conditions(
        **_readings(body),
        observed_at=body["dt"],
        timezone_offset=body.get("timezone"),
        pressure=body["main"]["pressure"],
        wind_speed=wind.get("speed", 0),
        wind_deg=wind.get("deg"),
        sunrise=sys.get("sunrise"),
        sunset=sys.get("sunset"),
        station_name=body.get("name") or "",
        country=sys.get("country") or "",
    )


def parse_forecast_step(item: Mapping[str, Any]) -> ForecastStep:
    return ForecastStep(
        **_readings(item),
        at=item["dt"],
        wind_speed=(item.get("wind") or {}).get("speed", 0),
        pop=item.get("pop"),
        rain_mm=(item.get("rain") or {}).get("3h", 0),
        snow_mm=(item.get("snow") or {}).get("3h", 0),
    )


def parse_forecast(body: Mapping[str, Any]) -> Forecast:
    city = body.get("city") or {}
    return Forecast(
        timezone_offset=city.get("timezone"),
        steps=tuple(parse_forecast_step(item) for item in body["list"]),
    )


def parse_geo_place(item: Mapping[str, Any]) -> GeoPlace:
    return GeoPlace(
        name=item["name"],
        country=item.get("country") or "",
        state=item.get("state") or "",
        lat=item["lat"],
        lon=item["lon"],
        local_names=item.get("local_names") or {},
    )
