"""The report's parts of the page: rendered once per version, and the same as before."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import translation

from tests.factories import LONDONS, conditions, forecast
from weather import fragments
from weather.models import Place
from weather.reports import WeatherReport
from weather.units import Clock, Display, Units, WindUnit

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "pages" / "london-forecast.html"
FETCHED = datetime(2025, 11, 26, 9, 0, tzinfo=UTC)

# What a visitor who never chose a wind unit or a clock sees in metric: what all saw before.
AS_BEFORE = Display(wind=WindUnit.MS, clock=Clock.H24)


def london_report(**changes: object) -> WeatherReport:
    place = Place(
        pk=1, name="London", state="England", country="GB", lat=Decimal("51.5073"),
        lon=Decimal("-0.1276"),
    )  # fmt: skip
    others = tuple(
        Place(pk=i, name=g.name, state=g.state, country=g.country, lat=Decimal("1"), lon=i)
        for i, g in enumerate(LONDONS[1:], start=2)
    )
    fields: dict[str, object] = {
        "place": place,
        "units": Units.METRIC,
        "current": conditions(),
        "forecast": forecast(),
        "source": "cache",
        "fetched_at": FETCHED,
        "expires_at": FETCHED + timedelta(minutes=10),
        "alternatives": others,
        "lookup_id": 7,
        **changes,
    }
    return WeatherReport(**fields)  # type: ignore[arg-type]


def test_the_forecast_part_is_what_the_page_showed_before_it_was_cached():
    """The golden file pins the forecast section (alternatives, days, chart, table) of a
    fixed report. When it was written it matched, but for whitespace, what the page
    rendered on every view before this part was cached. Rewrite it only on purpose."""
    rendered = fragments.report_parts(london_report(), display=AS_BEFORE).forecast
    assert rendered == GOLDEN.read_text()


def test_each_version_is_rendered_once_and_a_new_version_again():
    first = fragments.report_parts(london_report(), display=AS_BEFORE)
    assert fragments.report_parts(london_report(), display=AS_BEFORE) is first
    served_fresh = fragments.report_parts(london_report(source="upstream"), display=AS_BEFORE)
    assert served_fresh is not first  # the label differs, though the parts do not
    refetched = fragments.report_parts(
        london_report(fetched_at=FETCHED + timedelta(minutes=10)), display=AS_BEFORE
    )
    assert refetched is not first


def test_each_language_has_its_own_parts():
    with translation.override("de"):
        german = fragments.report_parts(london_report(), display=AS_BEFORE)
    english = fragments.report_parts(london_report(), display=AS_BEFORE)
    assert german is not english
    assert "5-Tage-Vorhersage" in german.forecast
    assert "5-day forecast" in english.forecast


@pytest.mark.parametrize("units", [Units.IMPERIAL, Units.STANDARD])
def test_units_are_part_of_the_version(units):
    assert "°C" in fragments.report_parts(london_report(), display=AS_BEFORE).current
    other = fragments.report_parts(london_report(units=units), display=AS_BEFORE).current
    assert "°C" not in other


def test_the_wind_unit_and_clock_are_part_of_the_key():
    before = fragments.report_parts(london_report(), display=AS_BEFORE)
    chosen = fragments.report_parts(
        london_report(), display=Display(wind=WindUnit.KMH, clock=Clock.H12)
    )
    # 3.0 m/s from 200°; sunrise 07:26 and sunset 15:46 UTC (tests/factories.py).
    assert "3.0 m/s S" in before.current
    assert ">07:26<" in before.current
    assert "10.8 km/h S" in chosen.current
    assert "m/s" not in chosen.current
    assert ">7:26 AM<" in chosen.current
    assert ">3:46 PM<" in chosen.current
    assert ">15:46<" in before.current
    assert "PM" not in before.forecast
    assert " PM</time>" in chosen.forecast
    assert " AM</time>" in chosen.forecast


def test_a_beaufort_force_is_named():
    parts = fragments.report_parts(
        london_report(), display=Display(wind=WindUnit.BEAUFORT, clock=Clock.H24)
    )
    assert "Force 2 S · Light breeze" in parts.current


@pytest.mark.parametrize(
    ("wind", "shown"),
    [(WindUnit.MPH, "6.7 mph"), (WindUnit.KNOTS, "5.8 kn"), (WindUnit.MS, "3.0 m/s")],
)
def test_an_imperial_report_shows_wind_in_any_unit(wind, shown):
    # 3.0 m/s is 6.71 mph: converted back to m/s, then to the unit chosen.
    report = london_report(units=Units.IMPERIAL, current=replace(conditions(), wind_speed=6.71))
    parts = fragments.report_parts(report, display=Display(wind=wind, clock=Clock.H24))
    assert shown in parts.current


@pytest.mark.django_db
def test_a_fresh_page_is_rendered_once_and_then_served_as_the_same_bytes(
    client, stubbed_services, settings
):
    settings.WEATHER_MEMO_SECONDS = 60
    client.get("/", {"q": "London", "units": "metric"})  # fetched: "upstream"
    first = client.get("/", {"q": "London", "units": "metric"})  # now from the cache
    again = client.get("/", {"q": "London", "units": "metric"})
    assert "weather/dashboard.html" in [t.name for t in first.templates]
    assert again.templates == []  # no template rendered: the page was kept
    assert again.content == first.content
    assert again["ETag"] == first["ETag"]
    # When, not how long ago: the words would make each view's body another.
    assert b"data-relative>" in again.content
    assert b" ago<" not in again.content
    elsewhere = client.get("/", {"q": "london", "units": "metric"})  # another address
    assert "weather/dashboard.html" in [t.name for t in elsewhere.templates]
