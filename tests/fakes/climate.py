"""The made-up weather of the fake OpenWeather: deterministic per (location, hour).

Plausible enough to look right in the UI: temperature follows latitude, season and time of
day, conditions are drawn with realistic weights, and day and night follow the sun. Values
are metric; the answer bodies convert them per request.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass

__all__ = ["CONDITIONS", "Sample", "sample", "sun_times"]

# Condition code -> (main, description, icon base, relative weight, cloud cover % range).
CONDITIONS: dict[int, tuple[str, str, str, int, tuple[int, int]]] = {
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
class Sample:
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


def sample(lat: float, lon: float, t: float) -> Sample:
    """The weather at the point during the UTC hour containing ``t``."""
    hour = int(t // 3600)
    # A string seed is hashed the same way in every process, unlike hash() of a tuple.
    rng = random.Random(f"{lat:.2f}:{lon:.2f}:{hour}")
    temp = _celsius_at(lat, lon, hour * 3600.0) + rng.gauss(0.0, 1.5)
    codes = list(CONDITIONS)
    code = rng.choices(codes, weights=[CONDITIONS[c][3] for c in codes])[0]
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
    lo, hi = CONDITIONS[code][4]
    humidity = rng.randint(80, 100) if precip is not None or code == 701 else rng.randint(35, 85)
    wind = round(rng.uniform(0.3, 12.0 if code == 200 else 8.0), 2)
    # Wind chill below 10 °C, mugginess above 25 °C; crude but in the right direction.
    feels = temp - 0.7 * wind if temp < 10.0 else temp + max(0.0, temp - 25.0) * humidity / 200
    pressure = rng.randint(1000, 1030) if precip is None else rng.randint(985, 1010)
    return Sample(
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
