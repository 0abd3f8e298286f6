"""The whole flow: Django → cached lookups → OpenWeather client → key from a real OpenBao.

The upstream is the fake OpenWeather server over real HTTP on loopback.
"""

from __future__ import annotations

import io
import logging

import pytest
from django.core.management import call_command

from tests.conftest import API_KEY
from tests.support.openbao import seed_weather_key
from weather.vault import api_keys

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def test_search_shows_weather_for_zurich(client, live_settings, fake_upstream):
    response = client.get("/", {"q": "Zürich"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Zürich" in html
    assert "5-day forecast" in html
    assert "Humidity" in html
    counts = fake_upstream.call_counts()
    assert (counts["geocode"], counts["weather"], counts["forecast"]) == (1, 1, 1)


def test_repeat_lookup_needs_neither_upstream_nor_vault(client, live_settings, fake_upstream):
    assert client.get("/api/weather", {"q": "Kraków"}).json()["source"] == "upstream"
    before = fake_upstream.call_counts()
    # A new worker (empty key cache) that cannot log in to Vault still serves the cached entry.
    live_settings.VAULT_TOKEN = "hvs.revoked"
    body = client.get("/api/weather", {"q": "  KRAKÓW "}).json()
    assert body["source"] == "cache"
    assert fake_upstream.call_counts() == before
    assert api_keys().reads == 0


@pytest.mark.parametrize(
    ("query", "country"),
    [("東京", "JP"), ("São Paulo", "BR"), ("Kraków", "PL"), ("Zurich", "CH"), ("Paris", "FR")],
)
def test_non_ascii_and_ambiguous_names_resolve(client, live_settings, query, country):
    body = client.get("/api/weather", {"q": query, "units": "imperial"}).json()
    assert body["place"]["country"] == country
    assert body["units"] == "imperial"
    assert len(body["forecast"]["steps"]) == 40


def test_ambiguous_london_offers_the_others_and_each_can_be_picked(client, live_settings):
    body = client.get("/api/weather", {"q": "London"}).json()
    assert body["place"]["country"] == "GB"
    others = body["alternatives"]
    assert [p["country"] for p in others] == ["CA", "US"]
    picked = client.get("/", {"lat": others[1]["lat"], "lon": others[1]["lon"]})
    assert picked.status_code == 200
    assert "Kentucky" in picked.content.decode()


def test_unknown_place_says_so(client, live_settings):
    response = client.get("/", {"q": "Atlantis"})
    assert response.status_code == 404
    assert "No place called “Atlantis” was found" in response.content.decode()


def test_rotated_key_is_picked_up_without_a_restart(
    client, live_settings, fake_upstream, openbao_server
):
    assert client.get("/api/weather", {"q": "London"}).status_code == 200
    assert api_keys().reads == 1

    new_key = "owm-rotated-key-77aa"
    seed_weather_key(openbao_server, api_key=new_key)
    fake_upstream.set_api_key(new_key)

    response = client.get("/api/weather", {"q": "Paris"})
    assert response.status_code == 200
    assert response.json()["source"] == "upstream"
    assert fake_upstream.call_counts()["unauthorized"] == 1
    assert api_keys().reads == 2


def test_wrong_key_everywhere_is_a_clear_503(client, live_settings, fake_upstream):
    fake_upstream.set_api_key("some-other-key")
    response = client.get("/api/weather", {"q": "London"})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "invalid_api_key"


def test_approle_login_through_the_whole_flow(client, settings, live_settings, openbao_server):
    creds = openbao_server.create_approle(role="weather-web", policy="weather-read")
    settings.VAULT_TOKEN = ""
    settings.VAULT_ROLE_ID = creds.role_id
    settings.VAULT_SECRET_ID = creds.secret_id
    assert client.get("/api/weather", {"q": "Springfield"}).status_code == 200


def test_vault_stopped_gives_a_clear_page_and_failing_readyz(
    client, settings, fake_upstream, own_openbao, caplog
):
    vault, token = own_openbao
    settings.VAULT_ADDR = vault.addr
    settings.VAULT_TOKEN = token
    settings.OPENWEATHER_BASE_URL = fake_upstream.base_url
    assert client.get("/readyz").status_code == 200
    vault.stop()
    api_keys().invalidate()

    page = client.get("/", {"q": "Reykjavík"})
    assert page.status_code == 503
    assert "credentials cannot be read right now" in page.content.decode()
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable"}
    assert "readyz: the vault check failed: VaultUnreachable" in caplog.text
    assert "readyz: the database check failed" not in caplog.text


def test_readyz_is_200_with_real_vault_and_database(client, live_settings):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_the_key_is_never_logged_returned_or_stored(
    client, live_settings, fake_upstream, openbao_server, caplog
):
    caplog.set_level(logging.DEBUG)
    bodies = []
    for params in ({"q": "London"}, {"q": "Paris"}, {"q": "Atlantis"}, {"q": "Sydney"}):
        bodies.append(client.get("/", params).content)
        bodies.append(client.get("/api/weather", params).content)
    # Force a 401, a key re-read and an upstream failure: the paths most likely to leak.
    seed_weather_key(openbao_server, api_key="owm-second-key-9911")
    fake_upstream.set_api_key("owm-second-key-9911")
    bodies.append(client.get("/api/weather", {"q": "Mumbai"}).content)
    fake_upstream.fail(500)
    bodies.append(client.get("/api/weather", {"q": "Cape Town"}).content)
    bodies.append(client.get("/readyz").content)

    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)

    assert "urllib3" in caplog.text  # DEBUG request lines were captured, and scrubbed
    for key in (API_KEY, "owm-second-key-9911"):
        assert key not in caplog.text
        assert all(key.encode() not in body for body in bodies)
        assert key not in dump.getvalue()
