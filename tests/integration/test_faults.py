"""What people see while a dependency fails, against gunicorn with real servers behind proxies.

Each fault is injected into a real part: the fake upstream (errors, slowness,
bad JSON, its network cut), OpenBao (cut, sealed, token revoked, secret deleted,
key rotated) or the database (cut). For each: a place stored earlier is still
served, marked stale (nothing is lost); a place never stored gets a clear message
and a 503 with Retry-After; once the fault is healed, lookups work again without
a restart.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from tests.conftest import API_KEY
from tests.fakes.openweather import FakeOpenWeather
from tests.support.appserver import AppServer, app_env, fresh_database
from tests.support.openbao import OpenBaoServer, seeded_openbao
from tests.support.tcpproxy import TcpProxy

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

CACHE_TTL = 1.0
_points = itertools.count()


def next_point() -> dict[str, float]:
    """A place no other test has asked for."""
    n = next(_points)
    return {"lat": round(-50 + 3.7 * n, 2), "lon": round(-150 + 9.1 * n, 2)}


@dataclass
class Stack:
    server: AppServer
    fake: FakeOpenWeather
    upstream_link: TcpProxy
    vault: OpenBaoServer
    vault_link: TcpProxy
    app_token: str


@pytest.fixture(scope="module")
def stack(tmp_path_factory, static_root) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("faults")
    with (
        FakeOpenWeather(api_key=API_KEY) as fake,
        TcpProxy("127.0.0.1", fake.port) as upstream_link,
        seeded_openbao(api_key=API_KEY) as (vault, _),
        TcpProxy("127.0.0.1", vault.port) as vault_link,
        fresh_database(workdir) as database_url,
    ):
        # A chosen id, so the "token revoked" fault can be healed with the same token.
        app_token = vault.create_token(policy="weather-read", token_id="weather-faults-app")
        env = app_env(
            database_url=database_url,
            static_root=static_root,
            vault_addr=f"http://127.0.0.1:{vault_link.port}",
            vault_token=app_token,
            upstream_url=f"http://127.0.0.1:{upstream_link.port}",
            VAULT_TIMEOUT="1",
            # Read Vault on every upstream call, so a Vault fault shows at once.
            VAULT_KEY_TTL="0",
            OPENWEATHER_CONNECT_TIMEOUT="1",
            OPENWEATHER_READ_TIMEOUT="1",
            WEATHER_CACHE_TTL=str(CACHE_TTL),
            WEATHER_REQUEST_BUDGET="4",
            # Each fault is healed and checked at once: no backoff between Vault reads.
            VAULT_RETRY_BACKOFF="0",
            # Say which dependency failed, as on an orchestrator's private network.
            WEATHER_READYZ_DETAILS="1",
            # Faults are under test here, not the budget: the cases together make more
            # calls in a minute than the 45 the free tier's caps leave for new places.
            WEATHER_BUDGET_PER_MINUTE="1000",
        )
        with AppServer(env=env, workers=2) as server:
            yield Stack(server, fake, upstream_link, vault, vault_link, app_token)


def cut_upstream(s: Stack) -> Callable[[], object]:
    s.upstream_link.stop()
    return s.upstream_link.start


def upstream_fails(status: int) -> Callable[[Stack], Callable[[], None]]:
    def inject(s: Stack) -> Callable[[], None]:
        s.fake.fail(status)
        return s.fake.clear_faults

    return inject


def upstream_slow(s: Stack) -> Callable[[], None]:
    s.fake.latency = 2.5

    def heal() -> None:
        s.fake.latency = 0

    return heal


def upstream_malformed(s: Stack) -> Callable[[], None]:
    s.fake.malformed()
    return s.fake.clear_faults


def cut_vault(s: Stack) -> Callable[[], object]:
    s.vault_link.stop()
    return s.vault_link.start


def seal_vault(s: Stack) -> Callable[[], None]:
    s.vault.seal()
    return s.vault.unseal


def revoke_token(s: Stack) -> Callable[[], None]:
    s.vault.root_client().auth.token.revoke(s.app_token)

    def heal() -> None:
        # What an operator does: issue the app a valid token again (here, under the
        # same id, since the running app cannot be handed a new one).
        s.vault.create_token(policy="weather-read", token_id=s.app_token)

    return heal


def delete_secret(s: Stack) -> Callable[[], None]:
    s.vault.delete_secret(mount="secret", path="weather")

    def heal() -> None:
        s.vault.write_secret(mount="secret", path="weather", data={"openweather_api_key": API_KEY})

    return heal


FAULTS = {
    "upstream-500": (upstream_fails(500), 503, "upstream_unavailable"),
    "upstream-429": (upstream_fails(429), 503, "upstream_rate_limited"),
    "upstream-timeout": (upstream_slow, 503, "upstream_unavailable"),
    "upstream-malformed-json": (upstream_malformed, 503, "upstream_unavailable"),
    "upstream-connection-refused": (cut_upstream, 503, "upstream_unavailable"),
    "vault-stopped": (cut_vault, 503, "vault_unavailable"),
    "vault-sealed": (seal_vault, 503, "vault_unavailable"),
    "vault-token-revoked": (revoke_token, 503, "vault_unavailable"),
    "vault-secret-deleted": (delete_secret, 503, "vault_unavailable"),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_fault_serves_stale_data_then_recovers(stack: Stack, fault: str):
    inject, status, code = FAULTS[fault]
    stored, never_stored = next_point(), next_point()
    first = stack.server.get("/api/weather", **stored)
    assert first.status_code == 200
    assert first.json()["source"] == "upstream"
    time.sleep(CACHE_TTL + 0.2)  # now expired: the next request must go upstream

    heal = inject(stack)
    try:
        api = stack.server.get("/api/weather", **stored)
        assert api.status_code == 200, api.text
        assert api.json()["source"] == "stale"
        assert api.json()["stale_reason"] == code
        assert api.json()["age_seconds"] >= 1
        page = stack.server.get("/", **stored)
        assert page.status_code == 200
        assert "Showing weather from" in page.text

        missing = stack.server.get("/api/weather", **never_stored)
        assert missing.status_code == status, missing.text
        assert missing.json()["error"]["code"] == code
        assert int(missing.headers["Retry-After"]) > 0
        missing_page = stack.server.get("/", **never_stored)
        assert missing_page.status_code == status
        assert "Please try again" in missing_page.text
        assert "Traceback" not in missing_page.text
    finally:
        heal()

    recovered = stack.server.get("/api/weather", **never_stored)
    assert recovered.status_code == 200, recovered.text
    assert recovered.json()["source"] == "upstream"


def test_a_rotated_key_is_used_without_a_restart(stack: Stack):
    new_key = "owm-rotated-in-place-31"
    stack.vault.write_secret(mount="secret", path="weather", data={"openweather_api_key": new_key})
    stack.fake.set_api_key(new_key)
    try:
        response = stack.server.get("/api/weather", **next_point())
        assert response.status_code == 200
        assert response.json()["source"] == "upstream"
    finally:
        stack.vault.write_secret(
            mount="secret", path="weather", data={"openweather_api_key": API_KEY}
        )
        stack.fake.set_api_key(API_KEY)


def test_readyz_names_the_failed_dependency(stack: Stack):
    assert stack.server.get("/readyz").status_code == 200
    stack.vault_link.stop()
    try:
        ready = stack.server.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["vault"]["ok"] is False
        assert ready.json()["checks"]["database"] == {"ok": True}
    finally:
        stack.vault_link.start()
    assert stack.server.get("/readyz").status_code == 200


def test_vault_down_at_start_then_back(server_env, openbao_server):
    """The app starts and serves pages with Vault unreachable, and uses it once it is back."""
    link = TcpProxy("127.0.0.1", openbao_server.port)  # not started: Vault is "down"
    env = {
        **server_env,
        "VAULT_ADDR": f"http://127.0.0.1:{link.port}",
        "VAULT_TIMEOUT": "1",
        "VAULT_RETRY_BACKOFF": "0",
    }
    with AppServer(env=env, workers=2) as server:
        assert server.get("/").status_code == 200
        assert server.get("/readyz").status_code == 503
        lookup = server.get("/api/weather", q="Paris")
        assert lookup.status_code == 503
        assert lookup.json()["error"]["code"] == "vault_unavailable"
        with link:
            assert server.get("/api/weather", q="Paris").status_code == 200
            assert server.get("/readyz").status_code == 200


def test_database_unreachable_is_a_clear_503_and_recovers(server_env):
    link, env_url = database_link(server_env["DATABASE_URL"])
    env = {**server_env, "DATABASE_URL": env_url, "WEATHER_READYZ_DETAILS": "1"}
    with link, AppServer(env=env, workers=2) as server:
        assert server.get("/api/weather", q="Sydney").status_code == 200
        link.stop()
        try:
            # Places no worker has served yet: those need the database.
            page = server.get("/", q="Paris")
            assert page.status_code == 503
            assert "database is not answering" in page.text
            api = server.get("/api/weather", q="Mumbai")
            assert api.status_code == 503
            assert api.json()["error"]["code"] == "database_unavailable"
            ready = server.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["checks"]["database"]["ok"] is False
            assert server.get("/healthz").status_code == 200
        finally:
            link.start()
        assert server.get("/api/weather", q="Sydney").json()["source"] == "cache"
        assert server.get("/readyz").status_code == 200


class SqliteLink:
    """Makes a SQLite file unreachable by putting a directory where the file was."""

    def __init__(self, path: str) -> None:
        from pathlib import Path

        self.path = Path(path)
        self.aside = self.path.with_name(self.path.name + ".aside")

    def stop(self) -> None:
        self.path.rename(self.aside)
        self.path.mkdir()

    def start(self) -> SqliteLink:
        if self.aside.exists():
            self.path.rmdir()
            self.aside.rename(self.path)
        return self

    def __enter__(self) -> SqliteLink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.start()


def database_link(database_url: str) -> tuple[TcpProxy | SqliteLink, str]:
    """Something that can cut the app off its database, and the URL the app should use."""
    parts = urlsplit(database_url)
    if parts.scheme.startswith("postgres"):
        proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
        netloc = f"{parts.username or 'postgres'}@127.0.0.1:{proxy.port}"
        return proxy, parts._replace(netloc=netloc).geturl()
    return SqliteLink(parts.path), database_url
