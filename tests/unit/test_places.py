"""Places: normalising queries, geocoding through the cache, points, suggestions, popularity."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.fakes.client import FakeClient
from weather import places, popularity
from weather.caching import clear_all
from weather.clients.schema import GeoPlace
from weather.errors import BudgetExhausted, PlaceNotFound, UpstreamUnavailable
from weather.models import GeocodeQuery, Place, PlaceVisit

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> FakeClient:
    return FakeClient()


def labels(found: list[Place]) -> list[str]:
    return [place.label for place in found]


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("  LONDON ", "london"),
        ("london", "london"),
        ("New   York\t", "new york"),
        ("Springfield , IL ,US", "springfield,il,us"),
        ("ＬＯＮＤＯＮ", "london"),  # full-width letters fold under NFKC
        ("STRAẞE", "strasse"),  # casefold, not lower
        ("Zu\u0308rich", "zürich"),  # combining diaeresis composes under NFKC
        ("Lon\u200bdon\u2060", "london"),  # zero-width space and word joiner
        ("\ufeffPa\u200dris\u200e", "paris"),  # BOM, zero-width joiner, LTR mark
    ],
)
def test_queries_are_normalised(raw, normalised):
    assert places.normalise_query(raw) == normalised


def test_the_query_limit_is_the_cache_column_s_length():
    assert places.MAX_QUERY_LENGTH == GeocodeQuery._meta.get_field("query").max_length == 100


def test_geocoding_is_cached_and_places_are_stored_once(client):
    places.find_places(query="London", client=client)
    places.find_places(query="london", client=client)
    assert client.calls["geocode"] == 1
    assert Place.objects.count() == 3
    assert GeocodeQuery.objects.get().hit_count == 1


def test_a_geocoding_answer_is_stored_in_one_statement_however_many_places(client):
    with CaptureQueriesContext(connection) as queries:
        found = places.find_places(query="London", client=client)
    inserts = [q["sql"] for q in queries.captured_queries if "INSERT" in q["sql"]]
    assert len([sql for sql in inserts if '"weather_place"' in sql]) == 1
    assert len(found) == 3
    assert [p.pk for p in found] == [Place.objects.get(lat=p.lat, lon=p.lon).pk for p in found]


def test_a_known_place_is_brought_up_to_date_and_keeps_its_row(client):
    known = Place.objects.create(name="Old name", country="GB", lat="51.5073", lon="-0.1277")
    client.answers["london"] = [
        GeoPlace(name="London", country="gb", lat=51.50731, lon=-0.12771, local_names={"de": "L"}),
        GeoPlace(name="London again", country="GB", lat=51.50729, lon=-0.12769),
    ]  # fmt: skip
    (found,) = places.find_places(query="London", client=client)
    assert found.pk == known.pk
    stored = Place.objects.get(pk=known.pk)
    # The first of two answers at one point (to 4 decimals) is the one kept.
    assert (stored.name, stored.country, stored.local_names) == ("London", "GB", {"de": "L"})
    assert Place.objects.count() == 1


def test_place_not_found_is_remembered_briefly(client, settings):
    settings.WEATHER_NEGATIVE_TTL = 60
    for _ in range(3):
        with pytest.raises(PlaceNotFound):
            places.find_places(query="Atlantis", client=client)
    assert client.calls["geocode"] == 1
    entry = GeocodeQuery.objects.get(query="atlantis")
    assert entry.expires_at - entry.fetched_at == timedelta(seconds=60)


def test_geocoding_falls_back_to_an_expired_answer_when_the_upstream_fails(client):
    places.find_places(query="London", client=client)
    GeocodeQuery.objects.update(expires_at=timezone.now() - timedelta(days=1))
    client.geocode_error = UpstreamUnavailable("down")
    assert [p.country for p in places.find_places(query="London", client=client)] == [
        "GB",
        "CA",
        "US",
    ]


def test_coordinates_of_a_known_place_select_it_exactly(client):
    places.find_places(query="London", client=client)
    place = places.place_at(lat=42.9837, lon=-81.2496)
    assert (place.country, place.state) == ("CA", "Ontario")


def test_a_new_point_is_not_stored_until_it_has_weather():
    point = places.place_at(lat=10.12345, lon=20.12345)
    assert point._state.adding
    assert (point.name, point.lat, point.lon) == (
        "10.12, 20.12",
        Decimal("10.12"),
        Decimal("20.12"),
    )
    assert not Place.objects.exists()
    saved = places.save_point(point)
    assert places.place_at(lat=10.1236, lon=20.1231).pk == saved.pk  # a neighbour shares it
    again = places.save_point(places.place_at(lat=30, lon=40))
    assert places.save_point(Place(lat=again.lat, lon=again.lon, name="x")).pk == again.pk


# --- suggestions for a half-typed name ----------------------------------------------------


@pytest.mark.parametrize("junk", ["", " ", "p", "!!", "?!?!", "   ,,, ", "—–", "🌧️🌧️🌧️"])
def test_junk_gets_no_suggestions_and_costs_no_upstream_call(client, junk):
    assert places.suggest_places(query=junk, client=client) == []
    assert client.calls == {}


def test_over_long_text_is_cut_to_the_query_limit_before_anything_else(client):
    places.suggest_places(query="x" * 10_000, client=client)
    assert list(client.geocoded) == ["x" * places.MAX_QUERY_LENGTH]


def test_unknown_text_asks_the_geocoder_once_then_remembers_the_answer(client):
    first = places.suggest_places(query="Paris", client=client)
    again = places.suggest_places(query="  PARIS ", client=client)
    assert labels(first) == ["Paris, Ile-de-France, FR", "Paris, Texas, US"]
    assert labels(again) == labels(first)
    assert client.geocoded == {"paris": 1}


def test_text_that_matched_nothing_is_remembered_as_nothing(client):
    assert places.suggest_places(query="Atlantis", client=client) == []
    assert places.suggest_places(query="atlantis", client=client) == []
    assert client.geocoded == {"atlantis": 1}
    assert GeocodeQuery.objects.get(query="atlantis").places.count() == 0


def test_a_prefix_of_a_known_answer_is_served_without_the_upstream(client):
    places.find_places(query="Springfield", client=client)
    client.geocoded.clear()
    for prefix in ("Sp", "spr", "Spring", "springf"):
        found = places.suggest_places(query=prefix, client=client)
        assert labels(found) == ["Springfield, Missouri, US", "Springfield, Illinois, US"]
    assert client.geocoded == {}


def test_a_prefix_of_a_known_place_name_is_served_without_the_upstream(client):
    Place.objects.create(name="Reykjavík", country="IS", lat=64.1466, lon=-21.9426)
    assert labels(places.suggest_places(query="reykj", client=client)) == ["Reykjavík, IS"]
    assert client.geocoded == {}


def test_two_letters_use_known_places_only(client):
    assert places.suggest_places(query="Pa", client=client) == []
    assert client.geocoded == {}


def test_suggestions_stop_at_the_limit(client):
    for i in range(8):
        Place.objects.create(name=f"Newtown {i}", country="GB", lat=50 + i, lon=0)
    assert len(places.suggest_places(query="newt", client=client, limit=5)) == 5


def test_a_place_found_two_ways_is_suggested_once(client):
    places.find_places(query="Paris", client=client)
    found = places.suggest_places(query="pari", client=client)
    assert labels(found) == ["Paris, Ile-de-France, FR", "Paris, Texas, US"]


@pytest.mark.parametrize(
    "error", [UpstreamUnavailable("down"), BudgetExhausted("spent", retry_after=30)]
)
def test_a_failing_or_spent_upstream_is_told_apart_from_no_match(error):
    client = FakeClient(geocode_error=error)
    with pytest.raises(type(error)):
        places.suggest_places(query="Paris", client=client)
    assert client.geocoded == {"paris": 1}
    assert places.suggest_places(query="Atlantis", client=FakeClient()) == []


# --- popular places --------------------------------------------------------------------


def test_popular_places_are_those_the_most_distinct_visitors_looked_at(settings):
    settings.WEATHER_HIT_FLUSH_SECONDS = 3600  # batched, as in production

    def place(name: str, lat: float) -> Place:
        return Place.objects.create(name=name, country="GB", lat=lat, lon=0)

    leeds, york, bath = place("Leeds", 53.8), place("York", 53.96), place("Bath", 51.38)
    place("Never looked at", 52.0)
    for visitor in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
        popularity.record(place_id=york.pk, client=visitor)
    for visitor in ("192.0.2.1", "192.0.2.2"):
        popularity.record(place_id=leeds.pk, client=visitor)
    for _ in range(300):  # one visitor, asking again and again, is one visitor
        popularity.record(place_id=bath.pk, client="198.51.100.9")
    assert places.popular_places(limit=8) == []  # nothing written yet: no query per view
    popularity.flush()
    clear_all()  # what a minute later would do: the list is made again
    assert [p.name for p in places.popular_places(limit=8)] == ["York", "Leeds", "Bath"]
    assert [p.name for p in places.popular_places(limit=1)] == ["York"]
    assert PlaceVisit.objects.count() == 6
    assert "192.0.2.1" not in set(PlaceVisit.objects.values_list("visitor", flat=True))


def test_visits_older_than_the_window_do_not_count():
    york = Place.objects.create(name="York", country="GB", lat=53.96, lon=0)
    PlaceVisit.objects.create(
        place=york,
        visitor="x",
        day=timezone.now().date() - timedelta(days=popularity.WINDOW_DAYS + 1),
    )
    assert places.popular_places(limit=8) == []


def test_suggestions_put_the_places_more_visitors_looked_at_first(client):
    places.find_places(query="Springfield", client=client)
    missouri, illinois = places.suggest_places(query="spring", client=client)
    for _ in range(300):  # one visitor, again and again
        popularity.record(place_id=missouri.pk, client="198.51.100.9")
    for visitor in ("192.0.2.1", "192.0.2.2"):
        popularity.record(place_id=illinois.pk, client=visitor)
    popularity.flush()
    assert [p.state for p in places.suggest_places(query="spring", client=client)] == [
        "Illinois",
        "Missouri",
    ]
