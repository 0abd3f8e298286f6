"""Storage grows with real use, not with traffic: refused and cookie-less requests store
nothing."""

from __future__ import annotations

import random

import pytest
from django.contrib.sessions.models import Session

from weather.models import GeocodeQuery, Lease, Place, UpstreamUsage, WeatherLookup

pytestmark = pytest.mark.django_db

REQUESTS = 5_000  # of each kind: 10,000 in all


def row_counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Place, WeatherLookup, GeocodeQuery, Lease, Session)
    }


# 10,000 requests through the test client: on PostgreSQL on a busy 2-core machine that
# has taken over 2 minutes, the suite's default limit. The test is about rows, not speed.
@pytest.mark.timeout(600)
def test_ten_thousand_refused_or_cookie_less_requests_add_no_rows(
    client, stubbed_services, settings
):
    settings.WEATHER_HIT_FLUSH_SECONDS = 3600
    settings.WEATHER_MEMO_SECONDS = 600
    client.get("/", {"q": "London", "units": "metric"})  # one real lookup, stored
    before = row_counts()
    usage_before = UpstreamUsage.objects.count()

    settings.WEATHER_CLIENT_BUDGET_PER_MINUTE = 0  # this client's share is spent
    rng = random.Random(7)
    statuses = set()
    for _ in range(REQUESTS):
        point = {"lat": f"{rng.uniform(-80, 80):.4f}", "lon": f"{rng.uniform(-170, 170):.4f}"}
        statuses.add(client.get("/api/weather", point).status_code)
    assert statuses == {429}

    client.cookies.clear()
    for i in range(REQUESTS):
        units = ("metric", "imperial")[i % 2]
        response = client.get("/", {"q": "London", "units": units})
        assert response.status_code in (200, 429)
        client.cookies.clear()  # every view a new, cookie-less visitor

    assert row_counts() == before
    # The refusals are counted (one row per window and client), not stored per request.
    assert UpstreamUsage.objects.count() - usage_before <= 4
