"""The admin: operators see cached lookups, expire them, refresh them, and search places."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from weather.models import AirQualityLookup, GeocodeQuery, Place, WeatherLookup

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/weather/weatherlookup/"


@pytest.fixture
def stored_lookup(client, stubbed_services) -> WeatherLookup:
    client.get("/api/weather", {"q": "London"})
    return WeatherLookup.objects.get()


def test_lookups_are_listed_with_their_freshness(admin_client, stored_lookup):
    html = admin_client.get(CHANGELIST).content.decode()
    assert "London, England, GB" in html
    assert "icon-yes.svg" in html  # fresh
    WeatherLookup.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert "icon-no.svg" in admin_client.get(CHANGELIST).content.decode()


def test_lookups_can_be_searched_and_filtered(admin_client, stored_lookup):
    assert "London, England" in admin_client.get(CHANGELIST, {"q": "london"}).content.decode()
    assert "0 weather lookups" in admin_client.get(CHANGELIST, {"q": "paris"}).content.decode()
    expired = admin_client.get(CHANGELIST, {"freshness": "expired"}).content.decode()
    assert "0 weather lookups" in expired


def test_payload_is_shown_read_only_and_pretty_printed(admin_client, stored_lookup):
    html = admin_client.get(f"{CHANGELIST}{stored_lookup.pk}/change/").content.decode()
    assert '<pre class="payload">' in html
    assert "&quot;description&quot;: &quot;broken clouds&quot;" in html
    assert 'name="payload"' not in html


def test_lookups_cannot_be_added_by_hand(admin_client):
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403


def test_expire_now_action(admin_client, stored_lookup):
    response = admin_client.post(
        CHANGELIST, {"action": "expire_now", "_selected_action": [stored_lookup.pk]}, follow=True
    )
    assert "Expired 1 lookup(s)." in response.content.decode()
    stored_lookup.refresh_from_db()
    assert not stored_lookup.is_fresh()


def test_expire_now_action_on_air_quality(admin_client, stored_lookup):
    air = AirQualityLookup.objects.get()
    response = admin_client.post(
        "/admin/weather/airqualitylookup/",
        {"action": "expire_now", "_selected_action": [air.pk]},
        follow=True,
    )
    assert "Expired 1 air quality lookup(s)." in response.content.decode()
    air.refresh_from_db()
    assert not air.is_fresh()


def test_expire_now_action_on_geocoding_queries(admin_client, stored_lookup):
    changelist = "/admin/weather/geocodequery/"
    assert "next search asks the geocoder again" in admin_client.get(changelist).content.decode()
    query = GeocodeQuery.objects.get()
    response = admin_client.post(
        changelist, {"action": "expire_now", "_selected_action": [query.pk]}, follow=True
    )
    assert "Expired 1 query(ies)." in response.content.decode()
    query.refresh_from_db()
    assert not query.is_fresh()


def test_refresh_now_action_fetches_again(admin_client, stored_lookup, stubbed_services):
    before = stubbed_services.call_count
    response = admin_client.post(
        CHANGELIST, {"action": "refresh_now", "_selected_action": [stored_lookup.pk]}, follow=True
    )
    assert "Refreshed 1 lookup(s)." in response.content.decode()
    stored_lookup.refresh_from_db()
    assert stored_lookup.fetch_count == 2
    assert stored_lookup.is_fresh()
    assert stubbed_services.call_count == before + 2  # current weather and forecast


def test_refresh_failure_is_reported_not_raised(admin_client, stored_lookup, stubbed_services):
    stubbed_services.get(
        "http://upstream.invalid/data/2.5/weather", status_code=502, text="bad gateway"
    )
    response = admin_client.post(
        CHANGELIST, {"action": "refresh_now", "_selected_action": [stored_lookup.pk]}, follow=True
    )
    assert response.status_code == 200
    assert "Could not refresh" in response.content.decode()


def test_places_are_searchable(admin_client, stored_lookup):
    assert Place.objects.count() == 3
    html = admin_client.get("/admin/weather/place/", {"q": "ontario"}).content.decode()
    assert "1 place" in html


def test_upstream_usage_shows_calls_today_against_the_cap_and_hit_ratio(
    admin_client, client, stubbed_services, settings
):
    settings.WEATHER_BUDGET_PER_DAY = 1000
    client.get("/api/weather", {"q": "London"})  # geocode, current, forecast, air: 4 calls
    client.get("/api/weather", {"q": "London"})  # a cache hit
    client.get("/api/weather", {"q": "London"})  # another
    html = admin_client.get("/admin/weather/upstreamusage/").content.decode()
    assert "4 of 1000 upstream calls" in html
    assert "Cache hit ratio:</strong> 66.7%" in html
    assert 'class="field-used">7%<' in html  # 4 of the 60 allowed this minute
