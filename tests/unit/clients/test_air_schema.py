"""The air pollution answer through the client, HTTP stubbed at the transport: hostile
bodies are the malformed-answer error, and the key never comes out of one."""

from __future__ import annotations

import json

import pytest

from tests.fakes.air_bodies import HOSTILE_AIR_BODIES, air_pollution, hostile_air_body
from tests.unit.clients.conftest import BASE, KEY
from weather.clients.air_schema import AirPollution, parse_air_pollution
from weather.errors import UpstreamUnavailable

AIR = BASE + "/data/2.5/air_pollution"


def test_the_fake_upstream_s_answer_is_read_with_every_component(owm, transport):
    transport.register_uri("GET", AIR, json=air_pollution(51.5085, -0.1257, 1_700_000_000))
    air = owm.air_pollution(lat=51.5085, lon=-0.1257)
    assert 1 <= air.aqi <= 5
    assert set(air.components) == {"pm2_5", "pm10", "o3", "no2", "co", "no", "so2", "nh3"}
    assert air.measured_at == 1_700_000_000 - 1_700_000_000 % 3600
    assert transport.last_request.path == "/data/2.5/air_pollution"


def test_components_the_page_does_not_need_may_be_missing_or_null():
    body = {"main": {"aqi": 1}, "components": {"pm2_5": 1, "pm10": 2, "o3": 3, "no2": 4}}
    air = AirPollution(aqi=1, measured_at=1_700_000_000, components=body["components"])
    assert air.components == {"pm2_5": 1.0, "pm10": 2.0, "o3": 3.0, "no2": 4.0}
    with_null = parse_air_pollution(
        {"list": [{**body, "dt": 1_700_000_000, "components": {**body["components"], "co": None}}]}
    )
    assert "co" not in with_null.components


@pytest.mark.parametrize("name", sorted(HOSTILE_AIR_BODIES))
def test_a_hostile_body_is_the_malformed_answer_error(owm, transport, name):
    body = hostile_air_body(name, api_key=KEY)
    if isinstance(body, bytes):
        transport.register_uri("GET", AIR, content=body)
    else:
        transport.register_uri("GET", AIR, json=body)
    with pytest.raises(UpstreamUnavailable):
        owm.air_pollution(lat=51.5, lon=-0.13)


def test_an_answer_echoing_the_key_is_refused_without_the_key_in_the_error(owm, transport):
    transport.register_uri("GET", AIR, json=hostile_air_body("key-echo", api_key=KEY))
    with pytest.raises(UpstreamUnavailable) as caught:
        owm.air_pollution(lat=51.5, lon=-0.13)
    chain = [caught.value, caught.value.__cause__, caught.value.__context__]
    assert not any(KEY in repr(error) for error in chain if error is not None)


def test_an_oversized_body_is_refused(make_owm, transport):
    owm = make_owm(max_bytes=65536)
    padding = " " * 70_000
    transport.register_uri("GET", AIR, content=json.dumps({"list": [], "x": padding}).encode())
    with pytest.raises(UpstreamUnavailable):
        owm.air_pollution(lat=51.5, lon=-0.13)


def test_a_stored_reading_is_checked_as_an_answer_is():
    with pytest.raises(ValueError, match="outside"):
        AirPollution(aqi=2, measured_at=1_700_000_000, components={"pm2_5": float("nan")})
