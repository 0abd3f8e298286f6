"""Whole answers kept per worker: served again byte for byte, with every view still
counted, only to requests they are true for, and never past the memo's time.

Vault and OpenWeather are stubbed at the HTTP transport (see conftest.py).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.support.metrics import parse, total, value
from weather import hit_counts, popularity, response_cache
from weather.models import WeatherLookup

pytestmark = pytest.mark.django_db

PAGE, API = "/", "/api/weather"
LONDON = {"lat": "51.5073", "lon": "-0.1276"}


@pytest.fixture
def kept_answers(settings, stubbed_services):
    """Answers kept for a minute (the test settings keep none), the report in the cache."""
    settings.WEATHER_MEMO_SECONDS = 60
    Client().get(API, LONDON)  # fetched from the upstream: the next views are cache hits
    return stubbed_services


def _headers(response) -> dict[str, str]:
    return {name: value for name, value in response.headers.items() if name != "X-Request-ID"}


@pytest.mark.parametrize("path", [PAGE, API])
def test_a_kept_answer_is_the_same_bytes_and_headers_as_a_made_one(client, kept_answers, path):
    made = client.get(path, LONDON)
    served_before = response_cache.served_count()
    again = client.get(path, LONDON)
    assert response_cache.served_count() == served_before + 1
    assert again.status_code == made.status_code == 200
    assert again.content == made.content
    assert _headers(again) == _headers(made)
    # Every security header the chain adds is in the kept copy.
    for header in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options"):
        assert header in again.headers


def test_each_view_of_a_kept_answer_has_its_own_request_id(client, kept_answers):
    ids = {client.get(PAGE, LONDON).headers["X-Request-ID"] for _ in range(3)}
    assert response_cache.served_count() == 2
    assert len(ids) == 3


def test_every_view_served_from_the_cache_counts_its_hit_visit_and_metrics(
    client, kept_answers, settings
):
    lookup = WeatherLookup.objects.get()
    hits_before = lookup.hit_count
    client.get(API, LONDON)  # made by the view, kept
    for address in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
        client.get(API, LONDON, REMOTE_ADDR=address)
    assert response_cache.served_count() == 3
    hit_counts.flush()
    lookup.refresh_from_db()
    assert lookup.hit_count == hits_before + 4
    popularity.flush()
    # The three addresses above and the test client's own: four distinct visitors.
    assert popularity.visitor_counts([lookup.place_id])[lookup.place_id] == 4
    samples = parse(client.get("/metrics").content.decode())
    assert value(samples, "weather_reports_total", {"source": "cache"}) == 4
    # Named by the view that made the answer, not "unmatched".
    assert (
        total(samples, "weather_http_requests_total", view="weather:api-weather", status="200") == 5
    )


@pytest.mark.parametrize(
    ("cookie", "value"),
    [("weather_units", "imperial"), ("weather_wind", "knots"), ("weather_clock", "12h")],
)
def test_each_preference_cookie_has_its_own_kept_page(client, kept_answers, cookie, value):
    plain = client.get(PAGE, LONDON).content
    client.cookies[cookie] = value
    chosen = client.get(PAGE, LONDON).content
    chosen_again = client.get(PAGE, LONDON).content
    assert chosen != plain
    assert chosen_again == chosen
    assert response_cache.served_count() == 1


def test_a_cookie_that_is_no_preference_shares_the_kept_page(client, kept_answers):
    client.get(PAGE, LONDON)
    client.cookies["sessionid"] = "someone-elses"
    client.get(PAGE, LONDON)
    assert response_cache.served_count() == 1


def test_a_conditional_request_gets_its_own_kept_304(client, kept_answers):
    etag = client.get(API, LONDON).headers["ETag"]
    made = client.get(API, LONDON, HTTP_IF_NONE_MATCH=etag)
    again = client.get(API, LONDON, HTTP_IF_NONE_MATCH=etag)
    assert made.status_code == again.status_code == 304
    assert response_cache.served_count() == 1
    assert _headers(again) == _headers(made)
    # A client holding another version gets the whole answer, not that 304.
    other = client.get(API, LONDON, HTTP_IF_NONE_MATCH='W/"another"')
    assert other.status_code == 200


def test_another_host_is_not_served_a_kept_answer(client, kept_answers, settings):
    settings.ALLOWED_HOSTS = ["testserver", "other.example"]
    client.get(API, LONDON)
    client.get(API, LONDON, HTTP_HOST="other.example")
    assert response_cache.served_count() == 0


def test_nothing_is_kept_with_no_memo_time(client, kept_answers, settings):
    settings.WEATHER_MEMO_SECONDS = 0
    client.get(API, LONDON)
    client.get(API, LONDON)
    assert response_cache.served_count() == 0


def test_an_answer_from_the_upstream_is_not_kept(client, settings, stubbed_services):
    # Its page would say "cache" from the next view on: keeping it would show "upstream".
    settings.WEATHER_MEMO_SECONDS = 60
    client.get(API, LONDON)
    client.get(API, LONDON)
    assert response_cache.served_count() == 0


def test_an_expired_report_is_not_kept(client, kept_answers):
    made = client.get(API, LONDON)
    assert response_cache.seconds_kept(made, timezone.now() - timedelta(seconds=1)) == 0


def test_a_kept_answer_lasts_no_longer_than_the_memo_time(client, kept_answers, settings):
    made = client.get(API, LONDON)
    settings.WEATHER_MEMO_SECONDS = 0.25
    # However long the report stays fresh, an operator's "expire now" shows this soon.
    assert response_cache.seconds_kept(made, timezone.now() + timedelta(hours=1)) == 0.25


def test_a_kept_answer_lasts_no_longer_than_its_max_age_stays_the_same(client, kept_answers):
    made = client.get(API, LONDON)
    max_age = int(made.headers["Cache-Control"].split("max-age=")[1].split(",")[0])
    # Kept for under a second: its max-age would then say one second less.
    kept = response_cache.seconds_kept(
        made, timezone.now() + timedelta(seconds=max_age, milliseconds=400)
    )
    assert 0 < kept <= 0.4
