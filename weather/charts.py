"""The forecast chart's geometry: a temperature line over precipitation bars, nights shaded.

Everything is computed here, in the place's local time, and drawn by a template as
inline SVG, so the chart needs no JavaScript and no chart library, and passes a strict
Content-Security-Policy (shapes carry classes, never ``style`` attributes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from django.utils.dateformat import format as format_date
from django.utils.translation import pgettext

from weather.clients.schema import Conditions, Forecast

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 60, 16, 40
STEP_SECONDS = 3 * 3600
DAY_SECONDS = 24 * 3600
# Day labels need about this much room (in SVG units) to stay legible.
_MIN_LABEL_WIDTH = 56
_NICE_STEPS = (1, 2, 5, 10, 20, 25, 50)


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Band:
    x: float
    width: float


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Row:
    """One forecast step, for the table that carries the chart's data in text."""

    at: datetime
    temp: float
    condition_id: int
    description: str
    icon: str
    pop: float | None  # None when the upstream did not give the chance
    precipitation_mm: float


@dataclass(frozen=True)
class ForecastChart:
    width: int
    height: int
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    line: str  # an SVG path through the temperatures
    dots: tuple[tuple[float, float], ...]
    bars: tuple[Bar, ...]
    nights: tuple[Band, ...]
    midnights: tuple[float, ...]
    day_labels: tuple[Tick, ...]
    temp_ticks: tuple[Tick, ...]
    pop_ticks: tuple[Tick, ...]
    rows: tuple[Row, ...]
    low: float
    high: float
    wettest: Row | None
    local: bool  # times are the place's own; False when drawn in UTC for want of its offset

    @property
    def plot_height(self) -> float:
        return self.plot_bottom - self.plot_top


def forecast_chart(*, forecast: Forecast, current: Conditions) -> ForecastChart | None:
    """Lay out the forecast steps on a chart; None when there is nothing to draw."""
    steps = forecast.steps
    if len(steps) < 2:
        return None
    # Without the place's offset the chart says it is drawn in UTC (``local`` is False).
    offset = forecast.timezone_offset or 0
    zone = dt_timezone(timedelta(seconds=offset))
    start, end = steps[0].at, steps[-1].at
    plot_right, plot_bottom = WIDTH - RIGHT, HEIGHT - BOTTOM
    plot_width, plot_height = plot_right - LEFT, plot_bottom - TOP

    def x(at: float) -> float:
        return round(LEFT + (at - start) / (end - start) * plot_width, 1)

    low = min(step.temp for step in steps)
    high = max(step.temp for step in steps)
    scale_low, scale_high, tick_step = _temperature_scale(low, high)

    def y(temp: float) -> float:
        share = (temp - scale_low) / (scale_high - scale_low)
        return round(plot_bottom - share * plot_height, 1)

    dots = tuple((x(step.at), y(step.temp)) for step in steps)
    line = "M" + " L".join(f"{px},{py}" for px, py in dots)

    bar_width = round(STEP_SECONDS / (end - start) * plot_width * 0.6, 1)
    bars = tuple(
        Bar(
            x=round(x(step.at) - bar_width / 2, 1),
            y=round(plot_bottom - pop * plot_height, 1),
            width=bar_width,
            height=round(pop * plot_height, 1),
        )
        for step in steps
        if (pop := step.pop or 0) > 0
    )

    temp_ticks = tuple(
        Tick(position=y(value), label=_number(value))
        for value in _frange(scale_low, scale_high, tick_step)
    )
    pop_ticks = tuple(
        Tick(position=round(plot_bottom - share * plot_height, 1), label=f"{round(share * 100)} %")
        for share in (0, 0.5, 1)
    )

    midnights = _local_midnights(start, end, offset)
    day_labels = []
    for left_edge, right_edge in zip((start, *midnights), (*midnights, end), strict=True):
        if x(right_edge) - x(left_edge) >= _MIN_LABEL_WIDTH:
            local = datetime.fromtimestamp(left_edge, tz=zone)
            day_labels.append(
                Tick(position=round((x(left_edge) + x(right_edge)) / 2, 1), label=_day(local))
            )

    nights = tuple(
        Band(x=x(begin), width=round(x(finish) - x(begin), 1))
        for begin, finish in _nights(forecast, current, start, end)
        if finish > begin
    )

    rows = tuple(
        Row(
            at=datetime.fromtimestamp(step.at, tz=zone),
            temp=step.temp,
            condition_id=step.condition_id,
            description=step.description,
            icon=step.icon,
            pop=step.pop,
            precipitation_mm=round(step.precipitation_mm, 1),
        )
        for step in steps
    )
    # Judged by the chance where the upstream gave one, else by the volume alone.
    wettest = max(rows, key=lambda row: (row.pop or 0, row.precipitation_mm))
    return ForecastChart(
        width=WIDTH,
        height=HEIGHT,
        plot_left=LEFT,
        plot_right=plot_right,
        plot_top=TOP,
        plot_bottom=plot_bottom,
        line=line,
        dots=dots,
        bars=bars,
        nights=nights,
        midnights=tuple(x(m) for m in midnights),
        day_labels=tuple(day_labels),
        temp_ticks=temp_ticks,
        pop_ticks=pop_ticks,
        rows=rows,
        low=low,
        high=high,
        wettest=wettest if (wettest.pop or wettest.precipitation_mm) else None,
        local=forecast.timezone_offset is not None,
    )


def _temperature_scale(low: float, high: float) -> tuple[float, float, float]:
    """A scale of round numbers around [low, high] with three to six ticks."""
    span = max(high - low, 1.0)
    step = next((s for s in _NICE_STEPS if span / s <= 5), _NICE_STEPS[-1])
    bottom = math.floor(low / step) * step
    top = math.ceil(high / step) * step
    if top == bottom:
        top += step
    return bottom, top, step


def _frange(first: float, last: float, step: float) -> list[float]:
    count = round((last - first) / step)
    return [first + i * step for i in range(count + 1)]


def _number(value: float) -> str:
    # A true minus sign, as in the rest of the page's typography.
    return f"{value:g}".replace("-", "−")


def _day(local: datetime) -> str:
    return format_date(local, pgettext("date format: weekday and day of the month", "D j"))


def _local_midnights(start: int, end: int, offset: int) -> list[int]:
    """The UTC times of each local midnight strictly inside (start, end)."""
    first = ((start + offset) // DAY_SECONDS + 1) * DAY_SECONDS - offset
    return list(range(first, end, DAY_SECONDS))


def _nights(forecast: Forecast, current: Conditions, start: int, end: int) -> list[tuple[int, int]]:
    """Dark hours within [start, end]: from today's sunset and sunrise, repeated daily.

    Sun times shift a few minutes a day, which is invisible at this scale. Where the sun
    does not rise or set (polar day and night), the forecast's own day/night icons decide.
    """
    if current.sunrise and current.sunset and current.sunrise < current.sunset:
        nights = []
        for day in range(-1, (end - start) // DAY_SECONDS + 2):
            dusk = current.sunset + day * DAY_SECONDS
            dawn = current.sunrise + (day + 1) * DAY_SECONDS
            if dawn > start and dusk < end:
                nights.append((max(dusk, start), min(dawn, end)))
        return nights
    half = STEP_SECONDS // 2
    nights = []
    for step in forecast.steps:
        if not step.icon.endswith("n"):
            continue
        begin, finish = max(step.at - half, start), min(step.at + half, end)
        if nights and nights[-1][1] >= begin:
            nights[-1] = (nights[-1][0], finish)
        else:
            nights.append((begin, finish))
    return nights
