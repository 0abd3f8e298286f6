"""Fixtures shared by every test: fresh per-process caches, and the real servers on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.openweather import FakeOpenWeather
from tests.support.appserver import collect_static, wired_app
from tests.support.openapi import ContractClient
from tests.support.openbao import OpenBaoServer, seed_weather_key
from weather.caching import clear_all

API_KEY = "owm-test-key-5f1c2a9e7b"  # what the fake upstream accepts


@pytest.fixture(autouse=True)
def fresh_process_caches() -> Iterator[None]:
    """Each test starts with nothing in process memory, as a new worker would."""
    clear_all()
    yield
    clear_all()


@pytest.fixture
def client() -> ContractClient:
    """pytest-django's test client, checking every API answer against the API document."""
    return ContractClient()


@pytest.fixture(scope="session")
def openbao_server() -> Iterator[OpenBaoServer]:
    """One real OpenBao dev server for the whole run."""
    with OpenBaoServer() as server:
        yield server


@pytest.fixture(scope="session")
def fake_upstream_server() -> Iterator[FakeOpenWeather]:
    """One fake OpenWeather HTTP server for the whole run."""
    server = FakeOpenWeather(api_key=API_KEY).start()
    yield server
    server.stop()


@pytest.fixture
def fake_upstream(fake_upstream_server: FakeOpenWeather) -> Iterator[FakeOpenWeather]:
    """The fake upstream with zeroed counters, no faults and the standard key."""
    fake_upstream_server.reset()
    fake_upstream_server.set_api_key(API_KEY)
    fake_upstream_server.latency = 0.0
    yield fake_upstream_server
    fake_upstream_server.reset()
    fake_upstream_server.set_api_key(API_KEY)
    fake_upstream_server.latency = 0.0


@pytest.fixture
def vault_token(openbao_server: OpenBaoServer) -> str:
    """A least-privilege token for the key, which is (re)written to its default place."""
    return seed_weather_key(openbao_server, api_key=API_KEY)


@pytest.fixture(scope="session")
def static_root(tmp_path_factory) -> str:
    """Collected static files, as production serves them (hashed names, compressed)."""
    target = tmp_path_factory.mktemp("static")
    collect_static(target)
    return str(target)


@pytest.fixture
def live_settings(settings, openbao_server, vault_token, fake_upstream):
    """Point the app at the real OpenBao server and the fake upstream."""
    settings.VAULT_ADDR = openbao_server.addr
    settings.VAULT_TOKEN = vault_token
    settings.VAULT_ROLE_ID = ""
    settings.VAULT_SECRET_ID = ""
    settings.VAULT_K8S_ROLE = ""
    settings.OPENWEATHER_BASE_URL = fake_upstream.base_url
    # The test client and the browser are one client (127.0.0.1) doing many things.
    settings.WEATHER_CLIENT_BUDGET_PER_MINUTE = 10**6
    settings.WEATHER_CLIENT_BUDGET_PER_DAY = 10**6
    return settings


@pytest.fixture
def server_env(tmp_path, openbao_server, vault_token, fake_upstream, static_root):
    """Environment for gunicorn: a fresh shared database, the shared OpenBao, the fake upstream."""
    with wired_app(
        tmp_path,
        static_root=static_root,
        vault_addr=openbao_server.addr,
        vault_token=vault_token,
        upstream_url=fake_upstream.base_url,
    ) as env:
        yield env
