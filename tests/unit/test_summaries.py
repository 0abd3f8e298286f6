"""Forecast steps summarised per local day, and times in the place's own offset."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import FIRST_STEP, forecast
from weather.summaries import daily_summaries, local_time


def test_daily_summaries_group_by_local_day():
    days = daily_summaries(forecast(offset=0))
    assert len(days) in (5, 6)
    first = days[0]
    assert first.low <= first.high
    assert first.pop == pytest.approx(0.4)  # steps 09:00..21:00 UTC on the first day: 0..0.4


def test_daily_summaries_respect_the_place_offset():
    # At UTC+14 the first step (09:00 UTC) is 23:00 local, the only step of that day;
    # in UTC the same day holds five steps (09:00 to 21:00).
    days_utc = daily_summaries(forecast(offset=0))
    days_east = daily_summaries(forecast(offset=14 * 3600))
    assert (days_utc[0].low, days_utc[0].high) == (4.0, 10.0)
    assert (days_east[0].low, days_east[0].high) == (4.0, 6.0)
    assert days_east[1].day == days_utc[0].day + timedelta(days=1)


def test_local_time_is_in_the_place_s_offset():
    at = local_time(FIRST_STEP, 5 * 3600 + 1800)
    assert at is not None
    assert (at.hour, at.minute, at.utcoffset()) == (14, 30, timedelta(hours=5, minutes=30))
    assert local_time(None, 0) is None
