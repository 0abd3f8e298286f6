"""The OpenWeather client over a stubbed HTTP transport (requests-mock): no network."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
import requests_mock

from tests.fakes.keys import FakeKeys
from tests.unit.conftest import UPSTREAM
from weather.clients.openweather import OpenWeatherClient
from weather.clients.protocols import KeySource

BASE = UPSTREAM
KEY = "k3y-that-must-never-leak"


@pytest.fixture
def transport() -> requests_mock.Adapter:
    """Where the client's requests go: register answers on it, read the requests back."""
    return requests_mock.Adapter()


@pytest.fixture
def make_owm(transport: requests_mock.Adapter) -> Callable[..., OpenWeatherClient]:
    """Build an ``OpenWeatherClient`` over ``transport`` with ``KEY``; any client argument
    (``budget``, ``max_bytes``, timeouts, other ``keys``) may be given to change it."""

    def make(*, keys: KeySource | None = None, **options: Any) -> OpenWeatherClient:
        session = requests.Session()
        session.mount("http://", transport)
        return OpenWeatherClient(
            base_url=BASE,
            keys=FakeKeys(KEY) if keys is None else keys,
            session=session,
            **options,
        )

    return make


@pytest.fixture
def owm(make_owm: Callable[..., OpenWeatherClient]) -> OpenWeatherClient:
    """An ``OpenWeatherClient`` over ``transport`` with ``KEY`` and the default limits."""
    return make_owm()
