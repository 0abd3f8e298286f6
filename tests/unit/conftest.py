"""Unit-test fixtures: Vault and OpenWeather stubbed at the HTTP transport, no network."""

from __future__ import annotations

import re

import pytest

from tests.unit import payloads

VAULT = "http://vault.invalid:8200"
UPSTREAM = "http://upstream.invalid"
STUB_KEY = "stub-owm-key-0123456789"


@pytest.fixture
def stubbed_services(settings, requests_mock):
    """Point the app at stubbed Vault and OpenWeather; geocoding knows only London."""
    settings.VAULT_ADDR = VAULT
    settings.VAULT_TOKEN = "unit-token"
    settings.OPENWEATHER_BASE_URL = UPSTREAM
    requests_mock.get(
        f"{VAULT}/v1/secret/data/weather",
        json={"data": {"data": {"openweather_api_key": STUB_KEY}, "metadata": {}}},
    )
    # The app looks its token up after "logging in"; this one never expires.
    requests_mock.get(
        f"{VAULT}/v1/auth/token/lookup-self", json={"data": {"ttl": 0, "renewable": False}}
    )
    requests_mock.get(
        re.compile(rf"{re.escape(UPSTREAM)}/geo/1\.0/direct\?.*"),
        json=lambda request, context: payloads.GEO_LONDON if request.qs["q"] == ["london"] else [],
    )
    requests_mock.get(
        re.compile(rf"{re.escape(UPSTREAM)}/data/2\.5/weather\?.*"), json=payloads.CURRENT
    )
    requests_mock.get(
        re.compile(rf"{re.escape(UPSTREAM)}/data/2\.5/forecast\?.*"), json=payloads.FORECAST
    )
    requests_mock.get(
        re.compile(rf"{re.escape(UPSTREAM)}/data/2\.5/air_pollution\?.*"), json=payloads.AIR
    )
    return requests_mock
