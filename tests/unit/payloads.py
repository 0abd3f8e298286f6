"""OpenWeather-shaped response bodies for tests that stub HTTP at the transport.

They come from the fake server's own functions, so the upstream's JSON shape is written
down once (tests/fakes/bodies.py). What they hold at FIXED_TIME, for the tests that
look for it on a page: London, broken clouds (icon 04d), 4.17 °C, humidity 36 %,
1011 hPa, sunrise 07:51:25 and sunset 16:09:35 UTC.
"""

from __future__ import annotations

import calendar
import json

from tests.fakes.air_bodies import air_pollution
from tests.fakes.bodies import current_weather, forecast, geocode

FIXED_TIME = calendar.timegm((2025, 11, 26, 10, 0, 0))

GEO_LONDON = geocode("London")
_LAT, _LON = GEO_LONDON[0]["lat"], GEO_LONDON[0]["lon"]
CURRENT = current_weather(_LAT, _LON, "metric", now=FIXED_TIME)
FORECAST = forecast(_LAT, _LON, "metric", now=FIXED_TIME)
AIR = air_pollution(_LAT, _LON, now=FIXED_TIME)
# CURRENT as raw JSON whose temperature is an integer too large for a float (10**400).
CURRENT_WITH_HUGE_TEMPERATURE = json.dumps(CURRENT).replace('"temp": 4.17', '"temp": 1' + "0" * 400)
