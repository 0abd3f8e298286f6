"""The OpenWeather client against HTTP stubbed at the transport (requests-mock): no network."""

from __future__ import annotations

import json
import logging
import time

import pytest
import requests

from tests.fakes import air_bodies
from tests.fakes.echoes import echo_forms, reader_sees
from tests.fakes.keys import FakeKeys
from tests.unit import payloads
from tests.unit.clients.conftest import BASE, KEY
from weather.clients.air_schema import AirPollution
from weather.clients.openweather import OpenWeatherClient
from weather.errors import (
    BudgetExhausted,
    InvalidApiKey,
    PlaceNotFound,
    UpstreamRateLimited,
    UpstreamUnavailable,
)
from weather.units import Units

WEATHER = f"{BASE}/data/2.5/weather"
FORECAST = f"{BASE}/data/2.5/forecast"
GEO = f"{BASE}/geo/1.0/direct"

CURRENT_BODY = payloads.CURRENT
DRY_STEP = payloads.FORECAST["list"][0]
WET_STEP = next(step for step in payloads.FORECAST["list"] if "rain" in step)
FORECAST_BODY = {**payloads.FORECAST, "list": [DRY_STEP, WET_STEP]}


def test_current_weather_is_parsed_into_a_frozen_dataclass(owm, transport):
    transport.register_uri("GET", WEATHER, json=CURRENT_BODY)
    conditions = owm.current(lat=51.5073, lon=-0.1276, units=Units.METRIC)
    assert conditions.temp == 4.17
    assert conditions.description == "broken clouds"
    assert conditions.wind_deg == 113
    assert conditions.sunrise == 1764143485
    with pytest.raises(AttributeError):
        conditions.temp = 0  # type: ignore[misc,unused-ignore]


def test_parameters_are_sent_as_query_params_with_timeouts(make_owm, transport):
    transport.register_uri("GET", WEATHER, json=CURRENT_BODY)
    owm = make_owm(connect_timeout=1.5, read_timeout=4)
    owm.current(lat=51.5073, lon=-0.1276, units="imperial")
    request = transport.last_request
    assert request.qs == {
        "lat": ["51.5073"],
        "lon": ["-0.1276"],
        "units": ["imperial"],
        "appid": [KEY.lower()],
    }
    assert request.timeout == (1.5, 4)


def test_query_with_url_metacharacters_is_encoded_not_concatenated(owm, transport):
    transport.register_uri("GET", GEO, json=[])
    with pytest.raises(PlaceNotFound):
        owm.geocode("a&appid=evil#x?y")
    assert transport.last_request.qs["appid"] == [KEY.lower()]
    assert transport.last_request.qs["q"] == ["a&appid=evil#x?y"]


def test_forecast_accepts_cod_as_a_string(owm, transport):
    transport.register_uri("GET", FORECAST, json=FORECAST_BODY)
    forecast = owm.forecast(lat=1, lon=2, units=Units.METRIC)
    assert [step.temp for step in forecast.steps] == [11.24, 7.68]
    assert forecast.timezone_offset == 0
    assert [step.rain_mm for step in forecast.steps] == [0, 7.22]
    assert [step.pop for step in forecast.steps] == [0.04, 0.86]


def test_geocoding_returns_places_best_first(owm, transport):
    transport.register_uri("GET", GEO, json=payloads.GEO_LONDON)
    places = owm.geocode("london")
    assert [(p.country, p.state) for p in places] == [
        ("GB", "England"),
        ("CA", "Ontario"),
        ("US", "Kentucky"),
    ]
    assert places[0].local_names["fr"] == "Londres"


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (401, {"cod": 401, "message": "Invalid API key."}, InvalidApiKey),
        (404, {"cod": "404", "message": "city not found"}, PlaceNotFound),
        (429, {"cod": 429, "message": "Your account is temporary blocked"}, UpstreamRateLimited),
        (500, {"cod": "500", "message": "Internal server error"}, UpstreamUnavailable),
        (502, None, UpstreamUnavailable),
        (503, None, UpstreamUnavailable),
        (400, {"cod": "400", "message": "wrong latitude"}, UpstreamUnavailable),
        # HTTP 200 with an error in the body, which OpenWeather has been seen to send.
        (200, {"cod": "404", "message": "city not found"}, PlaceNotFound),
        (200, {"cod": 429, "message": "blocked"}, UpstreamRateLimited),
    ],
)
def test_status_codes_map_to_the_error_tree(owm, transport, status, body, error):
    kwargs = {"json": body} if body is not None else {"text": "<html>Bad gateway</html>"}
    transport.register_uri("GET", WEATHER, status_code=status, **kwargs)
    with pytest.raises(error) as excinfo:
        owm.current(lat=1, lon=2, units=Units.METRIC)
    assert KEY not in str(excinfo.value)


@pytest.mark.parametrize(
    "failure",
    [
        requests.ConnectTimeout,
        requests.ReadTimeout,
        requests.ConnectionError,
        requests.exceptions.ChunkedEncodingError,
        requests.exceptions.SSLError,
    ],
)
def test_transport_failures_are_unavailable_and_hide_the_url(owm, transport, failure):
    # requests puts the full URL, appid included, into these exceptions' messages.
    transport.register_uri("GET", WEATHER, exc=failure(f"GET {WEATHER}?appid={KEY} failed"))
    with pytest.raises(UpstreamUnavailable) as excinfo:
        owm.current(lat=1, lon=2, units=Units.METRIC)
    assert KEY not in str(excinfo.value)
    assert excinfo.value.__cause__ is None
    assert excinfo.value.__suppress_context__


def call(client: OpenWeatherClient, url: str) -> object:
    if url == GEO:
        return client.geocode("x")
    if url == FORECAST:
        return client.forecast(lat=1, lon=2, units=Units.METRIC)
    return client.current(lat=1, lon=2, units=Units.METRIC)


@pytest.mark.parametrize(
    ("url", "body"),
    [
        (WEATHER, "<html>not json"),
        (WEATHER, '{"cod": 200}'),
        (WEATHER, '{"weather": [], "main": {}, "dt": 1}'),
        (WEATHER, '{"weather": [{"id": "x"}], "main": {"temp": "hot"}, "dt": 1}'),
        (FORECAST, '{"cod": "200", "list": [{"dt": null}]}'),
        (GEO, '{"not": "a list"}'),
        (GEO, '[{"lat": 1}]'),
    ],
)
def test_malformed_or_unexpected_json_is_unavailable(owm, transport, url, body):
    transport.register_uri("GET", url, text=body)
    with pytest.raises(UpstreamUnavailable):
        call(owm, url)


def test_empty_geocoding_result_is_place_not_found(owm, transport):
    transport.register_uri("GET", GEO, json=[])
    with pytest.raises(PlaceNotFound):
        owm.geocode("atlantis")


def test_a_401_re_reads_the_key_and_retries_exactly_once(make_owm, transport):
    keys = FakeKeys("old-key", "new-key")
    client = make_owm(keys=keys)

    def answer(request, context):
        if request.qs["appid"] == ["new-key"]:
            return CURRENT_BODY
        context.status_code = 401
        return {"cod": 401, "message": "Invalid API key."}

    transport.register_uri("GET", WEATHER, json=answer)
    assert client.current(lat=1, lon=2, units=Units.METRIC).temp == 4.17
    assert keys.invalidations == 1
    assert [r.qs["appid"] for r in transport.request_history] == [["old-key"], ["new-key"]]


def test_a_key_still_rejected_after_the_retry_is_invalid(owm, transport):
    transport.register_uri("GET", WEATHER, status_code=401, json={"cod": 401, "message": "no"})
    with pytest.raises(InvalidApiKey):
        owm.current(lat=1, lon=2, units=Units.METRIC)
    assert transport.call_count == 2


def test_urllib3_debug_lines_do_not_carry_the_key(caplog):
    # A real socket round trip is not needed: urllib3 logs through this logger.
    caplog.set_level(logging.DEBUG)
    logging.getLogger("urllib3.connectionpool").debug(
        '%s://%s:%s "%s %s %s" %s %s',
        "http",
        "h",
        80,
        "GET",
        f"/data/2.5/weather?lat=1&appid={KEY}&units=metric",
        "HTTP/1.1",
        200,
        10,
    )
    assert KEY not in caplog.text
    assert "appid=***" in caplog.text


def test_a_spent_time_budget_sends_nothing(owm, transport):
    transport.register_uri("GET", WEATHER, json=CURRENT_BODY)
    with pytest.raises(UpstreamUnavailable, match="time budget"):
        owm.current(lat=1, lon=2, units="metric", deadline=time.monotonic() - 1)
    assert transport.call_count == 0


def test_timeouts_shrink_to_the_time_left(owm, transport):
    transport.register_uri("GET", WEATHER, status_code=500)
    with pytest.raises(UpstreamUnavailable):
        owm.current(lat=1, lon=2, units="metric", deadline=time.monotonic() + 1)
    connect, read = transport.last_request.timeout
    assert read <= 1
    assert connect <= 1


# --- answers that could hurt: too large, too deep, odd numbers, one bad entry ----------


def test_an_answer_larger_than_the_cap_is_unavailable(make_owm, transport):
    small = make_owm(max_bytes=1000)
    padded = {**CURRENT_BODY, "padding": "x" * 5000}
    transport.register_uri("GET", WEATHER, json=padded)
    with pytest.raises(UpstreamUnavailable, match="larger than 1000 bytes"):
        small.current(lat=1, lon=2, units=Units.METRIC)
    transport.register_uri("GET", WEATHER, json=CURRENT_BODY)
    assert small.current(lat=1, lon=2, units=Units.METRIC).humidity == 36


def test_a_declared_length_over_the_cap_is_refused_before_reading(make_owm, transport):
    small = make_owm(max_bytes=1000)
    transport.register_uri("GET", WEATHER, content=b"{}", headers={"Content-Length": "300000000"})
    with pytest.raises(UpstreamUnavailable, match="larger than 1000 bytes"):
        small.current(lat=1, lon=2, units=Units.METRIC)


def usable_answer_with(extra: str) -> str:
    """The current weather answer, valid in every field it is read for, plus ``extra``."""
    return json.dumps(CURRENT_BODY)[:-1] + f', "extra": {extra}}}'


@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000 + "]" * 100_000,  # json itself would raise RecursionError
        usable_answer_with('{"a": ' * 20 + "1" + "}" * 20),  # deeper than any real answer
        usable_answer_with("NaN"),
        usable_answer_with("-Infinity"),
    ],
    ids=["nested-100000", "nested-20", "nan", "infinity"],
)
def test_deep_nesting_and_non_numbers_are_unavailable(owm, transport, body):
    transport.register_uri("GET", WEATHER, text=body)
    with pytest.raises(UpstreamUnavailable):
        owm.current(lat=1, lon=2, units=Units.METRIC)


def test_one_bad_geocoding_entry_is_dropped_and_the_rest_served(owm, transport):
    good = {"name": "Paris", "country": "FR", "lat": 48.8589, "lon": 2.32}
    transport.register_uri(
        "GET",
        GEO,
        json=[{"name": "Nowhere"}, {**good, "lat": 12345.678}, good, {**good, "name": None}],
    )
    assert [(p.name, p.lat) for p in owm.geocode("paris")] == [("Paris", 48.8589)]


def test_a_geocoding_answer_with_no_usable_entry_is_unavailable_not_not_found(owm, transport):
    transport.register_uri("GET", GEO, json=[{"name": "Nowhere"}])
    with pytest.raises(UpstreamUnavailable):
        owm.geocode("nowhere")


def test_an_answer_that_repeats_the_key_never_hands_it_on(owm, transport):
    transport.register_uri("GET", WEATHER, json={**CURRENT_BODY, "name": f"Station {KEY}"})
    conditions = owm.current(lat=1, lon=2, units=Units.METRIC)
    assert KEY not in repr(conditions)
    assert conditions.station_name == "Station ********"


def test_no_text_the_client_returns_reads_as_the_key_however_it_was_sent(owm, transport):
    forms = list(echo_forms(KEY).values())
    entries = ",".join(
        f'{{"name": {form}, "state": {form}, "lat": 1, "lon": 2, "country": "GB",'
        f' "local_names": {{"en": {form}}}}}'
        for form in forms
    )
    transport.register_uri("GET", GEO, text=f"[{entries}]")
    places = owm.geocode("anything", limit=5)
    assert len(places) == len(forms)
    shown = [
        text for place in places for text in (place.name, place.state, place.local_names["en"])
    ]
    assert [text for text in shown if reader_sees(KEY, text)] == []


def test_a_number_too_large_for_a_float_is_an_unusable_answer_not_a_crash(owm, transport):
    transport.register_uri("GET", WEATHER, text=payloads.CURRENT_WITH_HUGE_TEMPERATURE)
    with pytest.raises(UpstreamUnavailable, match="unexpected current weather"):
        owm.current(lat=1, lon=2, units=Units.METRIC)


class SpendsUpTo:
    """A budget that allows ``allowed`` calls, then refuses as a spent budget does."""

    def __init__(self, allowed: int) -> None:
        self.allowed = allowed

    def spend(self, *, refresh: bool = False, calls: int = 1) -> None:
        if self.allowed < calls:
            raise BudgetExhausted("spent", retry_after=60)
        self.allowed -= calls


AIR = f"{BASE}/data/2.5/air_pollution"
AIR_BODY = air_bodies.air_pollution(51.51, -0.13, 1764150000)


def test_weather_forecast_and_air_come_together(owm, transport):
    transport.register_uri("GET", WEATHER, json=CURRENT_BODY)
    transport.register_uri("GET", FORECAST, json=FORECAST_BODY)
    transport.register_uri("GET", AIR, json=AIR_BODY)
    current, forecast, air = owm.current_forecast_and_air(lat=51.5, lon=-0.1, units=Units.METRIC)
    assert current.temp == 4.17
    assert len(forecast.steps) == 2
    assert isinstance(air, AirPollution)
    (air_call,) = [r for r in transport.request_history if r.path == "/data/2.5/air_pollution"]
    assert "units" not in air_call.qs  # the same in every unit system


@pytest.mark.parametrize(
    ("air_answer", "error"),
    [({"status_code": 500, "json": {"cod": 500}}, UpstreamUnavailable),
     ({"json": {"list": [{"main": {"aqi": 9}}]}}, UpstreamUnavailable),
     ({"status_code": 429, "json": {"cod": 429}}, UpstreamRateLimited)],
)  # fmt: skip
def test_a_failing_air_call_is_answered_not_raised(owm, transport, air_answer, error):
    transport.register_uri("GET", WEATHER, json=CURRENT_BODY)
    transport.register_uri("GET", FORECAST, json=FORECAST_BODY)
    transport.register_uri("GET", AIR, **air_answer)
    current, _, air = owm.current_forecast_and_air(lat=51.5, lon=-0.1, units=Units.METRIC)
    assert current.temp == 4.17
    assert isinstance(air, error)


def test_the_weather_is_paid_for_before_the_air(make_owm, transport):
    client = make_owm(budget=SpendsUpTo(2))
    transport.register_uri("GET", WEATHER, json=CURRENT_BODY)
    transport.register_uri("GET", FORECAST, json=FORECAST_BODY)
    transport.register_uri("GET", AIR, json=AIR_BODY)
    current, _, air = client.current_forecast_and_air(lat=51.5, lon=-0.1, units=Units.METRIC)
    assert current.temp == 4.17
    assert isinstance(air, BudgetExhausted)
    assert "/data/2.5/air_pollution" not in {request.path for request in transport.request_history}


def test_a_budget_with_one_call_left_sends_neither_weather_nor_forecast(make_owm, transport):
    budget = SpendsUpTo(1)
    client = make_owm(budget=budget)
    with pytest.raises(BudgetExhausted):
        client.current_and_forecast(lat=51.5, lon=-0.1, units=Units.METRIC)
    assert budget.allowed == 1  # not one call paid for that the answer could not use
    assert transport.request_history == []


def test_a_failing_weather_call_still_fails_the_three(owm, transport):
    transport.register_uri("GET", WEATHER, status_code=500, json={"cod": 500})
    transport.register_uri("GET", FORECAST, json=FORECAST_BODY)
    transport.register_uri("GET", AIR, json=AIR_BODY)
    with pytest.raises(UpstreamUnavailable):
        owm.current_forecast_and_air(lat=51.5, lon=-0.1, units=Units.METRIC)
