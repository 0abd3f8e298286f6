"""The forecast chart's geometry: scales, local days, nights and bars."""

from __future__ import annotations

from dataclasses import replace

from tests.factories import conditions, forecast
from weather import charts
from weather.clients.schema import Conditions, Forecast


def chart_of(*, forecast: Forecast, current: Conditions) -> charts.ForecastChart:
    """The chart of a forecast that has one (most here do)."""
    chart = charts.forecast_chart(forecast=forecast, current=current)
    assert chart is not None
    return chart


def test_forty_steps_make_one_dot_each_spanning_the_plot():
    chart = chart_of(forecast=forecast(), current=conditions())
    assert len(chart.dots) == 40
    assert chart.dots[0][0] == chart.plot_left
    assert chart.dots[-1][0] == chart.plot_right
    assert chart.line.startswith(f"M{chart.dots[0][0]},{chart.dots[0][1]} L")


def test_temperature_scale_is_round_numbers_around_the_data():
    chart = chart_of(forecast=forecast(), current=conditions())
    assert (chart.low, chart.high) == (5.0, 12.0)
    assert [tick.label for tick in chart.temp_ticks] == ["4", "6", "8", "10", "12"]
    # Warmer is higher: the first tick is at the bottom of the plot.
    assert chart.temp_ticks[0].position == chart.plot_bottom
    assert chart.temp_ticks[-1].position == chart.plot_top


def test_below_zero_is_written_with_a_minus_sign():
    cold = forecast()
    cold = replace(cold, steps=tuple(replace(s, temp=s.temp - 20) for s in cold.steps))
    chart = chart_of(forecast=cold, current=conditions())
    assert chart.temp_ticks[0].label == "−16"


def test_bars_are_as_tall_as_the_chance_of_precipitation():
    chart = chart_of(forecast=forecast(), current=conditions())
    plot_height = chart.plot_bottom - chart.plot_top
    # pop is 0.1 * (i % 10): steps 0, 10, 20, 30 are dry and get no bar.
    assert len(chart.bars) == 36
    assert chart.bars[8].height == round(0.9 * plot_height, 1)
    assert chart.bars[8].y + chart.bars[8].height == chart.plot_bottom
    assert chart.wettest is not None
    assert chart.wettest.pop == 0.9


def test_days_are_split_at_local_midnight():
    utc = chart_of(forecast=forecast(offset=0), current=conditions())
    tokyo = chart_of(forecast=forecast(offset=9 * 3600), current=conditions())
    # 09:00 UTC is 18:00 in Tokyo: Tokyo's first midnight comes 15 hours earlier.
    hour = (utc.plot_right - utc.plot_left) / (39 * 3)
    assert round(utc.midnights[0] - tokyo.midnights[0], 1) == round(9 * hour, 1)
    assert tokyo.rows[0].at.hour == 18
    assert [t.label for t in utc.day_labels][:2] == ["Wed 26", "Thu 27"]


def test_nights_run_from_sunset_to_the_next_sunrise():
    # conditions(): sunrise 07:26:40 UTC, sunset 15:46:40 UTC on 26 Nov.
    chart = chart_of(forecast=forecast(), current=conditions())
    first = chart.nights[0]
    hour = (chart.plot_right - chart.plot_left) / (39 * 3)
    assert abs(first.x - (chart.plot_left + (15 + 46 / 60 - 9) * hour)) < 0.2
    assert abs(first.width - (15 + 40 / 60) * hour) < 0.2
    assert len(chart.nights) == 5


def test_without_sun_times_the_night_icons_decide():
    polar = replace(conditions(), sunrise=None, sunset=None)
    steps = forecast().steps
    night_steps = tuple(
        replace(s, icon="13n" if 4 <= i <= 6 else "13d") for i, s in enumerate(steps)
    )
    chart = chart_of(forecast=replace(forecast(), steps=night_steps), current=polar)
    hour = (chart.plot_right - chart.plot_left) / (39 * 3)
    assert len(chart.nights) == 1
    assert abs(chart.nights[0].width - 9 * hour) < 0.2


def test_nothing_to_draw_gives_no_chart():
    one_step = replace(forecast(), steps=forecast().steps[:1])
    assert charts.forecast_chart(forecast=one_step, current=conditions()) is None
