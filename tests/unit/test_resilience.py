"""Stale-if-error, refresh leases, the upstream budget and time budgets, without a network."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
import requests
from django.db import IntegrityError, OperationalError
from django.test import RequestFactory
from django.utils import timezone

from tests.fakes.keys import FakeKeys
from tests.unit.conftest import UPSTREAM, VAULT
from tests.unit.test_lookups import FakeClient
from weather import leases, lookups
from weather.budget import UpstreamBudget, calls_today
from weather.clients.openweather import (
    BudgetExhausted,
    OpenWeatherClient,
    UpstreamUnavailable,
)
from weather.middleware import DatabaseUnavailableMiddleware
from weather.models import GeocodeQuery, Lease, Place, UpstreamUsage, WeatherLookup
from weather.vault import VaultUnreachable

pytestmark = pytest.mark.django_db

WEATHER_URL = re.compile(rf"{re.escape(UPSTREAM)}/data/2\.5/weather\?.*")


class FailingClient(FakeClient):
    """Geocodes London, then fails every weather call with the given error."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    def current(self, **kwargs):
        self.calls["current"] += 1
        raise self.error


@pytest.fixture
def stored_london() -> Place:
    """London's weather stored an hour ago, expired since."""
    client = FakeClient()
    report = lookups.weather_for_query(query="London", units="metric", client=client)
    an_hour_ago = timezone.now() - timedelta(hours=1)
    WeatherLookup.objects.update(fetched_at=an_hour_ago, expires_at=an_hour_ago)
    return report.place


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (UpstreamUnavailable("timeout"), "upstream_unavailable"),
        (BudgetExhausted("spent", retry_after=30), "budget_exhausted"),
        (VaultUnreachable("down"), "vault_unavailable"),
    ],
)
def test_failure_serves_the_stored_copy_marked_stale(stored_london, error, reason):
    report = lookups.weather_for(place=stored_london, units="metric", client=FailingClient(error))
    assert report.source == "stale"
    assert report.stale_reason == reason
    assert timedelta(minutes=59) < report.age < timedelta(minutes=61)
    assert WeatherLookup.objects.get().fetched_at == report.fetched_at  # kept, not overwritten


def test_a_copy_older_than_stale_max_is_not_served(stored_london, settings):
    settings.WEATHER_STALE_MAX = 1800
    with pytest.raises(UpstreamUnavailable):
        lookups.weather_for(
            place=stored_london, units="metric", client=FailingClient(UpstreamUnavailable("x"))
        )


def test_without_a_stored_copy_the_error_reaches_the_caller():
    with pytest.raises(UpstreamUnavailable):
        lookups.weather_for_query(
            query="London", units="metric", client=FailingClient(UpstreamUnavailable("x"))
        )


def test_the_lease_is_released_after_success_and_after_failure(stored_london):
    lookups.weather_for(place=stored_london, units="metric", client=FakeClient())
    assert not Lease.objects.exists()
    WeatherLookup.objects.update(expires_at=timezone.now())
    lookups.weather_for(
        place=stored_london, units="metric", client=FailingClient(UpstreamUnavailable("x"))
    )
    assert not Lease.objects.exists()


def test_while_another_request_refreshes_the_stale_copy_is_served(stored_london, settings):
    settings.WEATHER_REFRESH_WAIT = 0.2
    assert leases.acquire(f"weather:{stored_london.pk}:metric", ttl=60)
    client = FakeClient()
    started = time.monotonic()
    report = lookups.weather_for(place=stored_london, units="metric", client=client)
    assert report.source == "stale"
    assert 0.2 <= time.monotonic() - started < 2
    assert client.calls["current"] == 0


def test_without_a_copy_a_waiting_request_gives_up_at_its_deadline(settings):
    settings.WEATHER_REQUEST_BUDGET = 0.5
    place = Place.objects.create(name="Nowhere", lat=1, lon=1)
    assert leases.acquire(f"weather:{place.pk}:metric", ttl=60)
    client = FakeClient()
    started = time.monotonic()
    with pytest.raises(UpstreamUnavailable):
        lookups.weather_for(place=place, units="metric", client=client)
    assert 0.5 <= time.monotonic() - started < 3
    assert client.calls["current"] == 0


def test_a_lapsed_lease_is_taken_over(stored_london):
    key = f"weather:{stored_london.pk}:metric"
    leases.acquire(key, ttl=60)
    Lease.objects.update(expires_at=timezone.now() - timedelta(seconds=1))  # its holder died
    report = lookups.weather_for(place=stored_london, units="metric", client=FakeClient())
    assert report.source == "upstream"


def test_a_live_lease_cannot_be_taken_twice():
    assert leases.acquire("k", ttl=60)
    assert leases.acquire("k", ttl=60) is None


def test_release_only_frees_ones_own_lease():
    holder = leases.acquire("k", ttl=60)
    leases.release("k", "someone-else")
    assert Lease.objects.filter(key="k", holder=holder).exists()
    leases.release("k", holder)
    assert not Lease.objects.exists()


def test_geocoding_falls_back_to_an_expired_answer_when_the_upstream_fails():
    lookups.find_places(query="London", client=FakeClient())
    GeocodeQuery.objects.update(expires_at=timezone.now() - timedelta(days=1))

    class GeocoderDown(FakeClient):
        def geocode(self, query, **kwargs):
            raise UpstreamUnavailable("down")

    places = lookups.find_places(query="London", client=GeocoderDown())
    assert [p.country for p in places] == ["GB", "CA", "US"]


def test_budget_spends_up_to_the_minute_cap_then_refuses(settings):
    settings.WEATHER_BUDGET_PER_MINUTE = 3
    budget = UpstreamBudget()
    for _ in range(3):
        budget.spend()
    with pytest.raises(BudgetExhausted) as excinfo:
        budget.spend()
    assert 1 <= excinfo.value.retry_after <= 60
    minute = UpstreamUsage.objects.get(window="minute")
    assert (minute.calls, minute.refused) == (3, 1)
    assert calls_today() == 3


def test_a_spent_day_gives_back_the_minute_unit(settings):
    settings.WEATHER_BUDGET_PER_MINUTE = 10
    settings.WEATHER_BUDGET_PER_DAY = 2
    budget = UpstreamBudget()
    budget.spend()
    budget.spend()
    with pytest.raises(BudgetExhausted) as excinfo:
        budget.spend()
    assert excinfo.value.retry_after > 60
    assert UpstreamUsage.objects.get(window="minute").calls == 2
    assert UpstreamUsage.objects.get(window="day").calls == 2


def test_no_request_is_sent_once_the_budget_is_spent(settings, requests_mock):
    settings.WEATHER_BUDGET_PER_MINUTE = 0
    client = OpenWeatherClient(
        base_url=UPSTREAM, keys=FakeKeys(), session=requests.Session(), budget=UpstreamBudget()
    )
    with pytest.raises(BudgetExhausted):
        client.current(lat=1, lon=2, units="metric")
    assert requests_mock.call_count == 0


def test_a_spent_time_budget_sends_nothing(requests_mock):
    client = OpenWeatherClient(base_url=UPSTREAM, keys=FakeKeys(), session=requests.Session())
    with pytest.raises(UpstreamUnavailable, match="time budget"):
        client.current(lat=1, lon=2, units="metric", deadline=time.monotonic() - 1)
    assert requests_mock.call_count == 0


def test_timeouts_shrink_to_the_time_left(requests_mock):
    requests_mock.get(WEATHER_URL, status_code=500)
    client = OpenWeatherClient(
        base_url=UPSTREAM, keys=FakeKeys(), session=requests.Session(), read_timeout=5
    )
    with pytest.raises(UpstreamUnavailable):
        client.current(lat=1, lon=2, units="metric", deadline=time.monotonic() + 1)
    connect, read = requests_mock.last_request.timeout
    assert read <= 1
    assert connect <= 1


def test_api_says_stale_with_its_age(client, stubbed_services):
    client.get("/api/weather", {"q": "London"})
    an_hour_ago = timezone.now() - timedelta(hours=1)
    WeatherLookup.objects.update(fetched_at=an_hour_ago, expires_at=an_hour_ago)
    stubbed_services.get(WEATHER_URL, status_code=503, text="down")
    body = client.get("/api/weather", {"q": "London"}).json()
    assert body["source"] == "stale"
    assert body["stale_reason"] == "upstream_unavailable"
    assert 3590 <= body["age_seconds"] <= 3610
    page = client.get("/", {"q": "London"}).content.decode()
    assert "Showing weather from <time" in page
    assert "an hour ago</time>: the weather service is not answering" in page


def test_spent_budget_without_a_copy_is_429_with_retry_after(client, stubbed_services, settings):
    settings.WEATHER_BUDGET_PER_MINUTE = 1  # the geocoding call spends it
    response = client.get("/api/weather", {"q": "London"})
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "budget_exhausted"
    assert 1 <= int(response["Retry-After"]) <= 60
    page = client.get("/", {"lat": "10", "lon": "10"})
    assert page.status_code == 429
    assert "allowance of weather updates" in page.content.decode()


def test_vault_down_with_a_stored_copy_still_answers(client, stubbed_services):
    client.get("/api/weather", {"q": "London"})
    WeatherLookup.objects.update(expires_at=timezone.now())
    stubbed_services.get(f"{VAULT}/v1/secret/data/weather", exc=requests.ConnectionError)
    from weather.vault import api_keys

    api_keys().invalidate()
    body = client.get("/api/weather", {"q": "London"}).json()
    assert body["source"] == "stale"
    assert body["stale_reason"] == "vault_unavailable"


@pytest.mark.parametrize(
    ("path", "content_type"), [("/", "text/html"), ("/api/weather", "application/json")]
)
def test_database_outage_is_a_503_with_a_clear_message(path, content_type):
    middleware = DatabaseUnavailableMiddleware(lambda request: None)
    request = RequestFactory().get(path)
    response = middleware.process_exception(request, OperationalError("connection refused"))
    assert response.status_code == 503
    assert response["Content-Type"].startswith(content_type)
    assert response["Retry-After"] == "30"
    assert b"database is not answering" in response.content


def test_integrity_errors_are_not_disguised_as_outages():
    middleware = DatabaseUnavailableMiddleware(lambda request: None)
    request = RequestFactory().get("/")
    assert middleware.process_exception(request, IntegrityError("duplicate")) is None
