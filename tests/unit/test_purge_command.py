"""The purge_weather management command."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.utils import timezone

from tests.fakes.client import FakeClient
from tests.unit.conftest import STUB_KEY
from weather import leases, places, reports
from weather.models import GeocodeQuery, Lease, Place, WeatherLookup

pytestmark = pytest.mark.django_db


def purge(*args: str) -> str:
    out = io.StringIO()
    call_command("purge_weather", *args, stdout=out)
    return out.getvalue()


def test_only_lookups_too_old_to_serve_are_deleted(settings):
    settings.WEATHER_STALE_MAX = 3600
    client = FakeClient()
    reports.weather_for_query(query="London", units="metric", client=client)
    reports.weather_for_query(query="Paris", units="metric", client=client)
    long_ago = timezone.now() - timedelta(hours=2)
    WeatherLookup.objects.filter(place__name="London").update(
        fetched_at=long_ago, expires_at=long_ago
    )
    assert "Deleted 1 lookups" in purge()
    assert list(WeatherLookup.objects.values_list("place__name", flat=True)) == ["Paris"]


def test_expired_geocoding_answers_and_lapsed_leases_go():
    places.find_places(query="London", client=FakeClient())
    GeocodeQuery.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    leases.acquire("lapsed", ttl=60)
    leases.acquire("live", ttl=60)
    Lease.objects.filter(key="lapsed").update(expires_at=timezone.now() - timedelta(seconds=1))
    output = purge()
    assert "1 geocoding answers" in output
    assert "1 lapsed leases" in output
    assert list(Lease.objects.values_list("key", flat=True)) == ["live"]


def test_a_negative_stale_max_is_refused():
    with pytest.raises(CommandError, match="zero or more"):
        purge("--stale-max", "-1")


def test_places_nothing_refers_to_go_after_an_hour(settings):
    settings.WEATHER_STALE_MAX = 0
    reports.weather_for_query(query="London", units="metric", client=FakeClient())
    reports.weather_at(lat=10.5, lon=20.5, units="metric", client=FakeClient())
    long_ago = timezone.now() - timedelta(hours=2)
    WeatherLookup.objects.update(fetched_at=long_ago, expires_at=long_ago)
    Place.objects.update(created_at=long_ago)
    young = Place.objects.create(name="Just made", lat=1, lon=1)
    assert "1 places" in purge()  # the point's; the Londons are still in an answer
    assert set(Place.objects.values_list("name", flat=True)) == {"London", "Just made"}
    assert young.pk in Place.objects.values_list("pk", flat=True)


def test_expired_sessions_are_cleared_on_the_same_schedule():
    Session.objects.create(
        session_key="old", session_data="x", expire_date=timezone.now() - timedelta(days=1)
    )
    Session.objects.create(
        session_key="live", session_data="x", expire_date=timezone.now() + timedelta(days=1)
    )
    purge()
    assert list(Session.objects.values_list("session_key", flat=True)) == ["live"]


def test_stored_text_holding_the_key_is_scrubbed_once_the_key_is_read(stubbed_services):
    """Rows written before the boundary cleaned and masked upstream text (an upgrade)."""
    echoed = f"{STUB_KEY[:6]}\u200b{STUB_KEY[6:]}"
    place = Place.objects.create(
        name=f"Echo {echoed}", state="\u202eetats", lat=1, lon=2, local_names={"en": echoed}
    )
    innocent = Place.objects.create(name="Zürich", lat=47.37, lon=8.54)
    reports.weather_for_query(query="London", units="metric", client=FakeClient())
    lookup = WeatherLookup.objects.get()
    lookup.payload["current"]["description"] = f"rain {STUB_KEY.upper()}"
    lookup.save()
    output = purge()
    assert "Scrubbed 1 places and deleted 1 lookups holding the key" in output
    place.refresh_from_db()
    assert (place.name, place.state, place.local_names) == (
        "Echo ********",
        "etats",
        {"en": "********"},
    )
    assert Place.objects.get(pk=innocent.pk).name == "Zürich"
    assert not WeatherLookup.objects.exists()


def test_without_the_key_stored_text_is_left_and_the_purge_goes_on(settings):
    settings.VAULT_TOKEN = ""
    settings.VAULT_TOKEN_FILE = ""
    err = io.StringIO()
    call_command("purge_weather", stdout=io.StringIO(), stderr=err)
    assert "not scrubbed: the key cannot be read" in err.getvalue()
