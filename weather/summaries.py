"""Forecast steps as people read them: one summary per local day, times in the place's offset.

Beside ``charts.py``, which draws the same steps; neither stores or fetches anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone

from weather.clients.schema import Forecast, ForecastStep


@dataclass(frozen=True)
class DailySummary:
    """One local day of the forecast: low, high and the conditions around midday."""

    day: date
    low: float
    high: float
    condition_id: int
    description: str
    icon: str
    pop: float | None  # the highest chance of the day; None when no step gave one
    rain_mm: float
    snow_mm: float

    @property
    def precipitation_mm(self) -> float:
        return round(self.rain_mm + self.snow_mm, 1)


def daily_summaries(forecast: Forecast) -> list[DailySummary]:
    """Group 3-hour steps by the place's local day: low, high, midday conditions."""
    offset = dt_timezone(timedelta(seconds=forecast.timezone_offset or 0))
    days: dict[date, list[tuple[datetime, ForecastStep]]] = {}
    for step in forecast.steps:
        local = datetime.fromtimestamp(step.at, tz=offset)
        days.setdefault(local.date(), []).append((local, step))
    summaries = []
    for day, steps in days.items():
        _, midday = min(steps, key=lambda item: abs(item[0].hour + item[0].minute / 60 - 13))
        pops = [step.pop for _, step in steps if step.pop is not None]
        summaries.append(
            DailySummary(
                day=day,
                low=min(step.temp_min for _, step in steps),
                high=max(step.temp_max for _, step in steps),
                condition_id=midday.condition_id,
                description=midday.description,
                icon=midday.icon,
                pop=max(pops) if pops else None,
                rain_mm=round(sum(step.rain_mm for _, step in steps), 1),
                snow_mm=round(sum(step.snow_mm for _, step in steps), 1),
            )
        )
    return summaries


def local_time(timestamp: int | None, offset_seconds: int | None) -> datetime | None:
    """Turn a Unix time into an aware datetime in the place's own UTC offset (UTC when
    the offset is unknown: the page then says its times are UTC)."""
    if timestamp is None:
        return None
    zone = dt_timezone(timedelta(seconds=offset_seconds or 0))
    return datetime.fromtimestamp(timestamp, tz=zone)
