"""OpenWeather's air pollution answer as a frozen dataclass, validated where it enters.

``/data/2.5/air_pollution`` answers ``{"coord": {...}, "list": [{"dt": ..., "main":
{"aqi": 1..5}, "components": {"co": ..., "pm2_5": ..., ...}}]}``: one entry for the
current hour. As in ``schema``, the dataclass checks its own fields whether it is built
from an answer or from a stored payload, and the parser raises ``KeyError``,
``TypeError`` or ``ValueError`` on what it cannot use (the client's malformed-answer
error, ``UpstreamUnavailable``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from weather.clients.schema import _TIME, _number, _set

# OpenWeather's scale, 1 (good) to 5 (very poor); anything else is not this index.
AQI_RANGE = (1, 5)
# What the page shows of every reading, and what it may also carry when sent.
SHOWN_COMPONENTS = ("pm2_5", "pm10", "o3", "no2")
OPTIONAL_COMPONENTS = ("co", "so2", "no", "nh3")
# µg/m³. Far above anything measured outdoors (the worst smog episodes reach a few
# thousand µg/m³ of PM and tens of thousands of CO), far below what breaks a page or
# a float: a number past these is a broken answer, not air.
_COMPONENT_MAX = {
    "pm2_5": 10_000.0,
    "pm10": 20_000.0,
    "o3": 10_000.0,
    "no2": 10_000.0,
    "co": 200_000.0,
    "so2": 20_000.0,
    "no": 20_000.0,
    "nh3": 10_000.0,
}


@dataclass(frozen=True)
class AirPollution:
    """The air at a point for one hour: OpenWeather's index (1 Good .. 5 Very Poor) and
    the concentrations it sent, in µg/m³; ``measured_at`` is Unix seconds (UTC)."""

    aqi: int
    measured_at: int
    components: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.aqi, bool) or not isinstance(self.aqi, int):
            # 2.0 or "2" is not an index OpenWeather sends: the answer is not what it says.
            raise TypeError(f"the air quality index must be an integer, not {self.aqi!r}")
        if not AQI_RANGE[0] <= self.aqi <= AQI_RANGE[1]:
            raise ValueError(f"the air quality index {self.aqi} is outside 1..5")
        _set(self, "measured_at", round(_number(self.measured_at, *_TIME)))
        if not isinstance(self.components, Mapping):
            raise TypeError("components is not an object")
        readings = {}
        for name in (*SHOWN_COMPONENTS, *OPTIONAL_COMPONENTS):
            if name in SHOWN_COMPONENTS or self.components.get(name) is not None:
                readings[name] = _number(self.components[name], 0, _COMPONENT_MAX[name])
        _set(self, "components", readings)


def parse_air_pollution(body: Mapping[str, Any]) -> AirPollution:
    """The current entry of an air pollution answer (the first and, for this endpoint,
    only one)."""
    entry = body["list"][0]
    return AirPollution(
        aqi=entry["main"]["aqi"], measured_at=entry["dt"], components=entry["components"]
    )
