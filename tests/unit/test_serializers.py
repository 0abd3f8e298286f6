"""The API's documents: ``wind=`` gives wind speeds in that unit; without it, an answer
is byte for byte what it was before ``wind=`` existed, up to the air-quality keys, which
came later and are added at the end (clients that knew the old document read it as they
did).

The golden files under tests/fixtures/api/ were written by the API before ``wind=`` and
air quality existed, for the stubbed London (payloads.py), with its two timestamps left
as ``{fetched_at}`` and ``{expires_at}``. Rewrite them only on purpose.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from weather.models import WeatherLookup

pytestmark = pytest.mark.django_db

API = "/api/weather"
GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "api"


@pytest.mark.parametrize("units", ["metric", "imperial"])
def test_without_wind_an_answer_is_byte_for_byte_what_it_was(client, stubbed_services, units):
    body = client.get(API, {"q": "London", "units": units}).content
    lookup = WeatherLookup.objects.get()
    expected = (
        (GOLDEN / f"london-{units}.json")
        .read_text(encoding="utf-8")
        .rstrip("\n")
        .replace("{fetched_at}", lookup.fetched_at.isoformat())
        .replace("{expires_at}", lookup.expires_at.isoformat())
    )
    before_air, air = body.split(b', "air_quality": ', 1)
    assert before_air + b"}" == expected.encode()
    assert set(json.loads(b'{"air_quality": ' + air)) <= {"air_quality", "air_quality_reason"}


@pytest.mark.parametrize(
    ("units", "wind", "label", "current", "first_step"),
    [("metric", "kmh", "km/h", 5.4, 7.38), ("metric", "knots", "kn", 2.92, 3.98),
     ("imperial", "ms", "m/s", 1.5, 2.05), ("metric", "mph", "mph", 3.36, 4.59),
     ("standard", "beaufort", "Beaufort", 1, 2)],
)  # fmt: skip
def test_wind_gives_every_wind_speed_in_that_unit(
    client, stubbed_services, units, wind, label, current, first_step
):
    plain = client.get(API, {"q": "London", "units": units}).json()
    converted = client.get(API, {"q": "London", "units": units, "wind": wind}).json()
    # London's wind: 1.5 m/s now, 2.05 m/s at the first step of the forecast.
    assert plain["forecast"]["steps"][0]["wind_speed"] != first_step or units == wind
    assert converted["unit_labels"] == {**plain["unit_labels"], "speed": label}
    assert converted["current"]["wind_speed"] == current
    assert converted["forecast"]["steps"][0]["wind_speed"] == first_step
    # Everything but the wind speeds and their label (and the source) is the same.
    for document in (plain, converted):
        document.pop("unit_labels")
        document.pop("source")  # the first was fetched, the second served from the cache
        for reading in (document["current"], *document["forecast"]["steps"]):
            reading.pop("wind_speed")
    assert converted == plain


def test_a_beaufort_force_is_a_whole_number(client, stubbed_services):
    body = client.get(API, {"q": "London", "wind": "beaufort"}).content
    assert b'"wind_speed": 1,' in body


def test_an_answer_in_another_wind_unit_has_its_own_etag(client, stubbed_services):
    plain = client.get(API, {"q": "London"})
    in_knots = client.get(API, {"q": "London", "wind": "knots"})
    assert in_knots["ETag"] != plain["ETag"]
    again = client.get(
        API, {"q": "London", "wind": "knots"}, headers={"If-None-Match": plain["ETag"]}
    )
    assert again.status_code == 200
    assert json.loads(again.content)["unit_labels"]["speed"] == "kn"


def test_an_unknown_wind_unit_is_a_400_that_says_so(client, stubbed_services):
    response = client.get(API, {"q": "London", "wind": "furlongs"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert "wind: Select a valid choice. furlongs is not one" in error["message"]
    assert list(error["fields"]) == ["wind"]


def test_the_clock_does_not_apply_to_the_api(client, stubbed_services):
    client.get(API, {"q": "London"})  # fetched; what follows is served from the cache
    plain = client.get(API, {"q": "London"})
    on_a_clock = client.get(API, {"q": "London", "clock": "12h"})
    assert on_a_clock.content == plain.content
    assert on_a_clock["ETag"] == plain["ETag"]
