"""The places the fake OpenWeather knows, and which of them is nearest a point.

A fixed set with OpenWeather's ids, names, local names and rankings, among them the
ambiguous names (three Londons, three Springfields) that tests of the place picker need.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = ["PLACES", "Place", "nearest_place"]


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

_NEAREST_PLACE_KM = 50.0


def _distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(min(1.0, math.sqrt(a)))


def nearest_place(lat: float, lon: float) -> Place | None:
    """The dataset place within ~50 km of the point, like OpenWeather's station lookup."""
    best = min(PLACES, key=lambda p: _distance_km(lat, lon, p.lat, p.lon))
    return best if _distance_km(lat, lon, best.lat, best.lon) <= _NEAREST_PLACE_KM else None
