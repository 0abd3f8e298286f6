"""Weather reports against an injected fake client: what is cached, fetched, or served stale."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.fakes.client import FakeClient
from weather import leases, reports
from weather.caching import clear_all
from weather.errors import AllowanceExhausted, BudgetExhausted, UpstreamUnavailable
from weather.models import Lease, Place, WeatherLookup
from weather.vault import VaultUnreachable

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> FakeClient:
    return FakeClient()


@pytest.fixture
def stored_london() -> Place:
    """London's weather stored an hour ago, expired since."""
    report = reports.weather_for_query(query="London", units="metric", client=FakeClient())
    an_hour_ago = timezone.now() - timedelta(hours=1)
    WeatherLookup.objects.update(fetched_at=an_hour_ago, expires_at=an_hour_ago)
    return report.place


def test_first_lookup_fetches_and_stores(client):
    report = reports.weather_for_query(query="London", units="metric", client=client)
    assert report.source == "upstream"
    assert report.place.country == "GB"
    assert [p.country for p in report.alternatives] == ["CA", "US"]
    assert client.calls == {"geocode": 1, "current": 1, "forecast": 1, "air_pollution": 1}
    stored = WeatherLookup.objects.get()
    assert stored.expires_at == stored.fetched_at + timedelta(seconds=600)


def test_fresh_lookup_is_served_without_any_upstream_call(client):
    reports.weather_for_query(query="London", units="metric", client=client)
    report = reports.weather_for_query(query="  LONDON ", units="metric", client=client)
    assert report.source == "cache"
    assert report.current.temp == 11.0
    assert client.calls == {"geocode": 1, "current": 1, "forecast": 1, "air_pollution": 1}
    assert WeatherLookup.objects.get().hit_count == 1


def test_expired_lookup_is_refetched(client):
    reports.weather_for_query(query="London", units="metric", client=client)
    WeatherLookup.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    report = reports.weather_for_query(query="London", units="metric", client=client)
    assert report.source == "upstream"
    assert client.calls["current"] == 2
    assert WeatherLookup.objects.count() == 1
    assert WeatherLookup.objects.get().fetch_count == 2


def test_one_fetch_serves_every_unit_system(client):
    metric = reports.weather_for_query(query="London", units="metric", client=client)
    imperial = reports.weather_for_query(query="London", units="imperial", client=client)
    standard = reports.weather_for_query(query="London", units="standard", client=client)
    assert (imperial.source, standard.source) == ("cache", "cache")
    assert imperial.current.temp == round(metric.current.temp * 9 / 5 + 32, 2)
    assert standard.current.temp == round(metric.current.temp + 273.15, 2)
    assert imperial.units == "imperial"
    assert client.calls["current"] == client.calls["forecast"] == 1
    assert WeatherLookup.objects.count() == 1


def test_ttl_comes_from_settings(client, settings):
    settings.WEATHER_CACHE_TTL = 30
    report = reports.weather_for_query(query="London", units="metric", client=client)
    assert report.expires_at - report.fetched_at == timedelta(seconds=30)


def test_unreadable_stored_payload_is_refetched(client):
    reports.weather_for_query(query="London", units="metric", client=client)
    WeatherLookup.objects.update(payload={"old": "shape"})
    report = reports.weather_for_query(query="London", units="metric", client=client)
    assert report.source == "upstream"


def test_a_stored_payload_that_fails_validation_is_fetched_again_not_shown(client):
    reports.weather_for_query(query="London", units="metric", client=client)
    lookup = WeatherLookup.objects.get()
    lookup.payload["current"]["temp"] = 1e308
    lookup.save()
    report = reports.weather_for_query(query="London", units="metric", client=client)
    assert report.source == "upstream"
    assert report.current.temp == 11.0


def test_upstream_failure_stores_nothing():
    client = FakeClient(weather_error=UpstreamUnavailable("down"))
    with pytest.raises(UpstreamUnavailable):
        reports.weather_for_query(query="London", units="metric", client=client)
    assert not WeatherLookup.objects.exists()


def test_nearby_coordinates_share_a_new_place_named_by_the_upstream(client):
    first = reports.weather_at(lat=10.12345, lon=20.12345, units="metric", client=client)
    second = reports.weather_at(lat=10.1236, lon=20.1231, units="metric", client=client)
    assert first.place.pk == second.place.pk
    assert second.source == "cache"
    assert first.place.name == "Somewhere"


def test_refresh_fetches_a_fresh_lookup_again(client):
    reports.weather_for_query(query="London", units="metric", client=client)
    report = reports.refresh(lookup=WeatherLookup.objects.get(), client=client)
    assert report.source == "upstream"
    assert client.calls["current"] == 2


def test_a_failed_refresh_keeps_the_old_copy_and_says_so(client):
    reports.weather_for_query(query="London", units="metric", client=client)
    fetched_at = WeatherLookup.objects.get().fetched_at
    client.weather_error = UpstreamUnavailable("down")
    with pytest.raises(UpstreamUnavailable, match="old copy is kept"):
        reports.refresh(lookup=WeatherLookup.objects.get(), client=client)
    assert WeatherLookup.objects.get().fetched_at == fetched_at


# --- stale-if-error and the refresh lease ------------------------------------------------


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (UpstreamUnavailable("timeout"), "upstream_unavailable"),
        (BudgetExhausted("spent", retry_after=30), "budget_exhausted"),
        (VaultUnreachable("down"), "vault_unavailable"),
    ],
)
def test_failure_serves_the_stored_copy_marked_stale(stored_london, error, reason):
    client = FakeClient(weather_error=error)
    report = reports.weather_for(place=stored_london, units="metric", client=client)
    assert report.source == "stale"
    assert report.stale_reason == reason
    assert timedelta(minutes=59) < report.age < timedelta(minutes=61)
    assert WeatherLookup.objects.get().fetched_at == report.fetched_at  # kept, not overwritten


def test_a_copy_older_than_stale_max_is_not_served(stored_london, settings):
    settings.WEATHER_STALE_MAX = 1800
    client = FakeClient(weather_error=UpstreamUnavailable("x"))
    with pytest.raises(UpstreamUnavailable):
        reports.weather_for(place=stored_london, units="metric", client=client)


def test_the_lease_is_released_after_success_and_after_failure(stored_london):
    reports.weather_for(place=stored_london, units="metric", client=FakeClient())
    assert not Lease.objects.exists()
    WeatherLookup.objects.update(expires_at=timezone.now())
    client = FakeClient(weather_error=UpstreamUnavailable("x"))
    reports.weather_for(place=stored_london, units="metric", client=client)
    assert not Lease.objects.exists()


def test_while_another_request_refreshes_the_stale_copy_is_served(stored_london, settings):
    settings.WEATHER_REFRESH_WAIT = 0.2
    assert leases.acquire(reports.lease_key(stored_london), ttl=60)
    client = FakeClient()
    started = time.monotonic()
    report = reports.weather_for(place=stored_london, units="metric", client=client)
    assert report.source == "stale"
    assert 0.2 <= time.monotonic() - started < 2
    assert client.calls["current"] == 0


def test_without_a_copy_a_waiting_request_gives_up_at_its_deadline(settings):
    settings.WEATHER_REQUEST_BUDGET = 0.5
    place = Place.objects.create(name="Nowhere", lat=1, lon=1)
    assert leases.acquire(reports.lease_key(place), ttl=60)
    client = FakeClient()
    started = time.monotonic()
    with pytest.raises(UpstreamUnavailable):
        reports.weather_for(place=place, units="metric", client=client)
    assert 0.5 <= time.monotonic() - started < 3
    assert client.calls["current"] == 0


def test_a_lapsed_lease_is_taken_over(stored_london):
    leases.acquire(reports.lease_key(stored_london), ttl=60)
    Lease.objects.update(expires_at=timezone.now() - timedelta(seconds=1))  # its holder died
    report = reports.weather_for(place=stored_london, units="metric", client=FakeClient())
    assert report.source == "upstream"


# --- the per-process memo ----------------------------------------------------------------


@pytest.fixture
def memo(settings):
    """Each process's short memory of served reports, on (it is off in the other tests)."""
    settings.WEATHER_MEMO_SECONDS = 60
    settings.WEATHER_HIT_FLUSH_SECONDS = 3600


def test_a_repeat_within_the_memo_time_costs_no_query(client, memo, django_assert_num_queries):
    reports.weather_for_query(query="London", units="metric", client=client)
    with django_assert_num_queries(0):
        report = reports.weather_for_query(query="london ", units="metric", client=client)
    assert report.source == "cache"
    assert [p.country for p in report.alternatives] == ["CA", "US"]
    assert client.calls["current"] == 1


def test_the_memo_never_outlives_the_lookups_expiry(client, memo, settings):
    settings.WEATHER_CACHE_TTL = 0.2
    reports.weather_for_query(query="London", units="metric", client=client)
    time.sleep(0.25)
    report = reports.weather_for_query(query="London", units="metric", client=client)
    assert report.source == "upstream"


def test_clearing_process_caches_makes_the_next_ask_read_the_database(client, memo):
    reports.weather_for_query(query="London", units="metric", client=client)
    WeatherLookup.objects.update(expires_at=timezone.now())
    assert reports.weather_for_query(query="London", units="metric", client=client).source == (
        "cache"
    )
    clear_all()
    report = reports.weather_for_query(query="London", units="metric", client=client)
    assert report.source == "upstream"


def test_stale_reports_are_not_memoised(client, memo):
    reports.weather_for_query(query="London", units="metric", client=client)
    WeatherLookup.objects.update(expires_at=timezone.now())
    clear_all()
    client.weather_error = UpstreamUnavailable("down")
    assert reports.weather_for_query(query="London", units="metric", client=client).is_stale
    client.weather_error = None
    report = reports.weather_for_query(query="London", units="metric", client=client)
    assert report.source == "upstream"


# --- a refused request stores nothing ----------------------------------------------------


def test_a_point_refused_by_the_budget_leaves_no_place_behind():
    client = FakeClient(weather_error=AllowanceExhausted("spent", retry_after=30))
    with pytest.raises(AllowanceExhausted):
        reports.weather_at(lat=10.5, lon=20.5, units="metric", client=client)
    assert not Place.objects.exists()
    assert not Lease.objects.exists()


def test_a_point_becomes_a_place_once_it_has_weather(client):
    report = reports.weather_at(lat=10.5, lon=20.5, units="metric", client=client)
    assert Place.objects.get().pk == report.place.pk
    assert report.lookup_id == WeatherLookup.objects.get().pk


def test_refreshing_a_stored_lookup_may_spend_the_reserve(stored_london):
    class Watching(FakeClient):
        refreshes: list[bool] = []

        def current(self, **kwargs):
            self.refreshes.append(kwargs["refresh"])
            return super().current(**kwargs)

    watching = Watching()
    reports.weather_for(place=stored_london, units="metric", client=watching)
    reports.weather_at(lat=10.5, lon=20.5, units="metric", client=watching)
    assert watching.refreshes == [True, False]
