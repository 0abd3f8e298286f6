"""Property-based: whatever text, numbers or units arrive, the page and the API never answer 500.

Vault and OpenWeather are stubbed at the transport (the geocoder knows London
only). Examples per test: 200 by default, 2,000 with HYPOTHESIS_PROFILE=ci
(which `.ci/run` sets).
"""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

settings.register_profile(
    "ci", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

# Fixtures here hold stubs and a test client, which are safe to share between examples.
SHARED_FIXTURES = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])

text = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=30),
    st.sampled_from(["London", "  LONDON ", "london,gb", "<script>", "' OR 1=1 --", "\x00", ""]),
)
number = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.text(max_size=20),
)
units = st.one_of(st.sampled_from(["metric", "imperial", "standard", ""]), st.text(max_size=12))
query = st.fixed_dictionaries(
    {},
    optional={"q": text, "units": units, "lat": number, "lon": number},
)


@pytest.fixture
def unlimited_budget(settings):
    """Thousands of examples would spend the real caps; the budget has tests of its own."""
    settings.WEATHER_BUDGET_PER_MINUTE = 10**9
    settings.WEATHER_BUDGET_PER_DAY = 10**9
    settings.WEATHER_CLIENT_BUDGET_PER_MINUTE = 10**9
    settings.WEATHER_CLIENT_BUDGET_PER_DAY = 10**9


def assert_well_formed_api_answer(response) -> None:
    assert response.status_code in {200, 400, 404}, response.content[:500]
    body = json.loads(response.content)
    if response.status_code == 200:
        assert {"place", "current", "forecast", "source"} <= set(body)
    else:
        assert set(body["error"]) >= {"code", "message"}
        assert body["error"]["message"]


@SHARED_FIXTURES
@given(params=query)
def test_api_answers_every_input_with_a_result_or_a_clear_error(
    client, stubbed_services, unlimited_budget, params
):
    assert_well_formed_api_answer(client.get("/api/weather", params))


@SHARED_FIXTURES
@given(params=query)
def test_page_answers_every_input_with_a_result_or_a_form_error(
    client, stubbed_services, unlimited_budget, params
):
    response = client.get("/", params)
    assert response.status_code in {200, 400, 404}, response.content[:500]
    assert b"<form" in response.content
