"""The search's validation: a valid query once per process, an invalid one as a bound form."""

from __future__ import annotations

from weather.forms import WeatherQuery, WeatherQueryForm, weather_query
from weather.units import Units


def test_a_valid_query_is_validated_once_and_then_known():
    first = weather_query({"q": "London", "units": "imperial"})
    assert first == WeatherQuery(q="London", units=Units.IMPERIAL, lat=None, lon=None)
    assert weather_query({"q": "London", "units": "imperial", "utm_source": "x"}) is first
    assert weather_query({"q": "Paris", "units": "imperial"}) is not first


def test_a_point_is_a_point():
    query = weather_query({"lat": "51.5", "lon": "-0.12"})
    assert isinstance(query, WeatherQuery)
    assert query.is_point
    assert (query.lat, query.lon, query.units) == (51.5, -0.12, Units.METRIC)


def test_an_invalid_query_is_the_bound_form_saying_what_is_wrong():
    form = weather_query({"lat": "1"})
    assert isinstance(form, WeatherQueryForm)
    assert "Give both lat and lon" in form.error_summary()
    assert isinstance(weather_query({"lat": "1"}), WeatherQueryForm)  # never kept as valid
