"""Suggestions for a half-typed name, and the most looked-up places, from the lookups layer."""

from __future__ import annotations

from collections import Counter

import pytest

from weather import lookups
from weather.clients.openweather import (
    BudgetExhausted,
    GeoPlace,
    PlaceNotFound,
    UpstreamUnavailable,
)
from weather.models import GeocodeQuery, Place, WeatherLookup

pytestmark = pytest.mark.django_db

PLACES = {
    "paris": [
        GeoPlace(name="Paris", country="FR", state="Ile-de-France", lat=48.8589, lon=2.32),
        GeoPlace(name="Paris", country="US", state="Texas", lat=33.6609, lon=-95.5555),
    ],
    "springfield": [
        GeoPlace(name="Springfield", country="US", state="Missouri", lat=37.2153, lon=-93.2982),
        GeoPlace(name="Springfield", country="US", state="Illinois", lat=39.799, lon=-89.644),
    ],
}


class Geocoder:
    """Geocodes a few names exactly, like OpenWeather's direct geocoding; counts calls."""

    def __init__(self, error: Exception | None = None) -> None:
        self.calls: Counter[str] = Counter()
        self.error = error

    def geocode(self, query: str, *, limit: int = 5, deadline: float | None = None):
        self.calls[query] += 1
        if self.error is not None:
            raise self.error
        if query not in PLACES:
            raise PlaceNotFound("none")
        return PLACES[query]


@pytest.fixture
def geocoder() -> Geocoder:
    return Geocoder()


def labels(places: list[Place]) -> list[str]:
    return [place.label for place in places]


@pytest.mark.parametrize("junk", ["", " ", "p", "!!", "?!?!", "   ,,, ", "—–", "🌧️🌧️🌧️"])
def test_junk_gets_no_suggestions_and_costs_no_upstream_call(geocoder, junk):
    assert lookups.suggest_places(query=junk, client=geocoder) == []
    assert sum(geocoder.calls.values()) == 0


def test_over_long_text_is_cut_to_the_query_limit_before_anything_else(geocoder):
    lookups.suggest_places(query="x" * 10_000, client=geocoder)
    assert list(geocoder.calls) == ["x" * lookups.MAX_QUERY_LENGTH]


def test_unknown_text_asks_the_geocoder_once_then_remembers_the_answer(geocoder):
    first = lookups.suggest_places(query="Paris", client=geocoder)
    again = lookups.suggest_places(query="  PARIS ", client=geocoder)
    assert labels(first) == ["Paris, Ile-de-France, FR", "Paris, Texas, US"]
    assert labels(again) == labels(first)
    assert geocoder.calls == {"paris": 1}


def test_text_that_matched_nothing_is_remembered_as_nothing(geocoder):
    assert lookups.suggest_places(query="Atlantis", client=geocoder) == []
    assert lookups.suggest_places(query="atlantis", client=geocoder) == []
    assert geocoder.calls == {"atlantis": 1}
    assert GeocodeQuery.objects.get(query="atlantis").places.count() == 0


def test_a_prefix_of_a_known_answer_is_served_without_the_upstream(geocoder):
    lookups.find_places(query="Springfield", client=geocoder)
    geocoder.calls.clear()
    for prefix in ("Sp", "spr", "Spring", "springf"):
        found = lookups.suggest_places(query=prefix, client=geocoder)
        assert labels(found) == ["Springfield, Missouri, US", "Springfield, Illinois, US"]
    assert geocoder.calls == {}


def test_a_prefix_of_a_known_place_name_is_served_without_the_upstream(geocoder):
    Place.objects.create(name="Reykjavík", country="IS", lat=64.1466, lon=-21.9426)
    assert labels(lookups.suggest_places(query="reykj", client=geocoder)) == ["Reykjavík, IS"]
    assert geocoder.calls == {}


def test_two_letters_use_known_places_only(geocoder):
    assert lookups.suggest_places(query="Pa", client=geocoder) == []
    assert geocoder.calls == {}


def test_suggestions_stop_at_the_limit(geocoder):
    for i in range(8):
        Place.objects.create(name=f"Newtown {i}", country="GB", lat=50 + i, lon=0)
    assert len(lookups.suggest_places(query="newt", client=geocoder, limit=5)) == 5


@pytest.mark.parametrize(
    "error",
    [
        UpstreamUnavailable("down"),
        BudgetExhausted("spent", retry_after=30),
    ],
)
def test_a_failing_or_spent_upstream_means_no_suggestions_not_an_error(error):
    geocoder = Geocoder(error=error)
    assert lookups.suggest_places(query="Paris", client=geocoder) == []


def test_popular_places_are_the_most_looked_up_across_units():
    def place(name: str, lat: float) -> Place:
        return Place.objects.create(name=name, country="GB", lat=lat, lon=0)

    def looked_up(p: Place, units: str, hits: int, fetches: int = 1) -> None:
        WeatherLookup.objects.create(
            place=p,
            units=units,
            payload={},
            fetched_at="2026-01-01T00:00Z",
            expires_at="2026-01-01T00:10Z",
            hit_count=hits,
            fetch_count=fetches,
        )

    leeds, york, bath = place("Leeds", 53.8), place("York", 53.96), place("Bath", 51.38)
    place("Never looked up", 52.0)
    looked_up(leeds, "metric", hits=3)
    looked_up(york, "metric", hits=2)
    looked_up(york, "imperial", hits=4)
    looked_up(bath, "metric", hits=0)

    assert [p.name for p in lookups.popular_places(limit=8)] == ["York", "Leeds", "Bath"]
    assert [p.name for p in lookups.popular_places(limit=1)] == ["York"]
