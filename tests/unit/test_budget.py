"""The upstream call budget: the site's caps, each client's share, the refresh reserve."""

from __future__ import annotations

import re

import pytest
import requests
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.fakes.keys import FakeKeys
from tests.unit.conftest import UPSTREAM
from weather.budget import UpstreamBudget, calls_today
from weather.clients.openweather import OpenWeatherClient
from weather.errors import AllowanceExhausted, BudgetExhausted
from weather.models import UpstreamUsage
from weather.units import Units

pytestmark = pytest.mark.django_db


@pytest.fixture
def wide_allowance(settings):
    """Client shares out of the way, for tests of the site's own caps."""
    settings.WEATHER_CLIENT_BUDGET_PER_MINUTE = 1000
    settings.WEATHER_CLIENT_BUDGET_PER_DAY = 1000


def site(window: str) -> UpstreamUsage:
    return UpstreamUsage.objects.get(window=window, client="")


def test_budget_spends_up_to_the_minute_cap_then_refuses(settings):
    settings.WEATHER_BUDGET_PER_MINUTE = 3
    budget = UpstreamBudget()
    for _ in range(3):
        budget.spend(refresh=True)
    with pytest.raises(BudgetExhausted) as excinfo:
        budget.spend(refresh=True)
    assert 1 <= excinfo.value.retry_after <= 60
    assert (site("minute").calls, site("minute").refused) == (3, 1)
    assert calls_today() == 3


def test_a_spent_day_gives_back_the_minute_unit(settings):
    settings.WEATHER_BUDGET_PER_MINUTE = 10
    settings.WEATHER_BUDGET_PER_DAY = 2
    budget = UpstreamBudget()
    budget.spend(refresh=True)
    budget.spend(refresh=True)
    with pytest.raises(BudgetExhausted) as excinfo:
        budget.spend(refresh=True)
    assert excinfo.value.retry_after > 60
    assert site("minute").calls == 2
    assert site("day").calls == 2


def test_new_places_leave_the_reserve_to_refreshes(settings):
    settings.WEATHER_BUDGET_PER_MINUTE = 8
    settings.WEATHER_BUDGET_RESERVED_FOR_REFRESH = 0.25
    budget = UpstreamBudget()
    for _ in range(6):
        budget.spend()
    with pytest.raises(BudgetExhausted, match="places not looked at before"):
        budget.spend()
    budget.spend(refresh=True)
    budget.spend(refresh=True)
    with pytest.raises(BudgetExhausted):
        budget.spend(refresh=True)
    assert site("minute").calls == 8


def test_one_client_spends_only_its_share_and_others_go_on(settings, wide_allowance):
    settings.WEATHER_CLIENT_BUDGET_PER_MINUTE = 3
    greedy, other = UpstreamBudget(client="192.0.2.7"), UpstreamBudget(client="192.0.2.8")
    for _ in range(3):
        greedy.spend()
    with pytest.raises(AllowanceExhausted) as excinfo:
        greedy.spend(refresh=True)
    assert excinfo.value.code == "allowance_exhausted"
    assert 1 <= excinfo.value.retry_after <= 60
    other.spend()
    assert site("minute").calls == 4  # the refused call took nothing from the site
    mine = UpstreamUsage.objects.get(window="minute", client="192.0.2.7")
    assert (mine.calls, mine.refused) == (3, 1)


def test_a_spent_site_gives_back_the_client_s_units(settings):
    settings.WEATHER_BUDGET_PER_MINUTE = 1
    settings.WEATHER_BUDGET_RESERVED_FOR_REFRESH = 0
    first, second = UpstreamBudget(client="a"), UpstreamBudget(client="b")
    first.spend()
    with pytest.raises(BudgetExhausted):
        second.spend()
    spent = UpstreamUsage.objects.filter(client="b").values_list("calls", flat=True)
    assert sum(spent) == 0  # its rows, made in the refused attempt, went with it


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


def test_a_call_spends_its_windows_in_one_statement_each(settings):
    budget = UpstreamBudget(client="192.0.2.9")
    budget.spend()  # the windows' rows exist from now on
    with CaptureQueriesContext(connection) as queries:
        budget.spend()
    statements = [q["sql"].split()[0] for q in queries.captured_queries]
    assert [s for s in statements if s not in ("BEGIN", "SAVEPOINT", "RELEASE", "COMMIT")] == [
        "UPDATE"
    ] * 4


def test_a_window_whose_row_went_missing_is_not_taken_for_spent(settings, wide_allowance):
    settings.WEATHER_BUDGET_PER_MINUTE = 5
    budget = UpstreamBudget(client="192.0.2.9")
    budget.spend()
    UpstreamUsage.objects.all().delete()  # an operator cleared the usage in the admin
    budget.spend()
    assert site("minute").calls == 1
    assert UpstreamUsage.objects.get(window="day", client="192.0.2.9").calls == 1


def test_a_refusal_in_a_new_window_is_counted(settings):
    settings.WEATHER_BUDGET_PER_MINUTE = 0
    with pytest.raises(BudgetExhausted):
        UpstreamBudget().spend(refresh=True)
    assert (site("minute").calls, site("minute").refused) == (0, 1)


def test_calls_sent_together_are_paid_for_together_or_not_at_all(settings, wide_allowance):
    settings.WEATHER_BUDGET_PER_MINUTE = 3
    budget = UpstreamBudget()
    budget.spend(refresh=True, calls=2)
    with pytest.raises(BudgetExhausted):
        budget.spend(refresh=True, calls=2)
    assert (site("minute").calls, site("minute").refused) == (2, 1)
    budget.spend(refresh=True)
    assert site("minute").calls == 3
