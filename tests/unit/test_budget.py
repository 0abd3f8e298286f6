"""The upstream call budget: per-minute and per-day caps shared by every worker."""

from __future__ import annotations

import re

import pytest
import requests

from tests.fakes.keys import FakeKeys
from tests.unit.conftest import UPSTREAM
from weather.budget import UpstreamBudget, calls_today
from weather.clients.openweather import BudgetExhausted, OpenWeatherClient
from weather.models import UpstreamUsage
from weather.units import Units

pytestmark = pytest.mark.django_db


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
    requests_mock.get(re.compile(rf"{re.escape(UPSTREAM)}/.*"), json={})
    client = OpenWeatherClient(
        base_url=UPSTREAM,
        keys=FakeKeys("k"),
        session=requests.Session(),
        budget=UpstreamBudget(),
    )
    with pytest.raises(BudgetExhausted):
        client.current(lat=1, lon=2, units=Units.METRIC)
    assert requests_mock.call_count == 0
