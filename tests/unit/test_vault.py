"""The key cache and the Vault reader, with Vault's HTTP API stubbed at the transport."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
import requests
import requests_mock

from tests.fakes.clock import Clock
from weather.vault import (
    ApiKeyCache,
    SecretMissing,
    VaultConfig,
    VaultKeyReader,
    VaultNotConfigured,
    VaultPermissionDenied,
    VaultSealed,
    VaultUnreachable,
)

ADDR = "http://vault.invalid:8200"
SECRET_URL = f"{ADDR}/v1/secret/data/weather"
LOGIN_URL = f"{ADDR}/v1/auth/approle/login"


def kv_body(data: dict[str, str]) -> dict[str, Any]:
    return {"data": {"data": data, "metadata": {"version": 1}}}


class Reads:
    def __init__(self, *values: str) -> None:
        self.values = list(values)
        self.count = 0

    def __call__(self) -> str:
        self.count += 1
        return self.values[min(self.count, len(self.values)) - 1]


def test_key_is_served_from_memory_within_the_ttl():
    clock, reads = Clock(), Reads("first")
    cache = ApiKeyCache(read=reads, ttl=300, clock=clock)
    assert cache.get().reveal() == "first"
    clock.now += 299
    assert cache.get().reveal() == "first"
    assert reads.count == 1


def test_key_is_read_again_once_the_ttl_has_passed():
    clock, reads = Clock(), Reads("first", "second")
    cache = ApiKeyCache(read=reads, ttl=300, clock=clock)
    cache.get()
    clock.now += 300
    assert cache.get().reveal() == "second"
    assert reads.count == 2


def test_invalidate_forces_the_next_get_to_read_vault():
    reads = Reads("first", "rotated")
    cache = ApiKeyCache(read=reads, ttl=300, clock=Clock())
    cache.get()
    cache.invalidate()
    assert not cache.is_cached
    assert cache.get().reveal() == "rotated"
    assert cache.reads == 2


def test_a_failed_read_leaves_nothing_cached():
    def failing() -> str:
        raise VaultUnreachable("down")

    cache = ApiKeyCache(read=failing, ttl=300, clock=Clock())
    with pytest.raises(VaultUnreachable):
        cache.get()
    assert not cache.is_cached


def test_repr_never_shows_the_key():
    cache = ApiKeyCache(read=lambda: "s3cret-value", ttl=300)
    cache.get()
    assert "s3cret-value" not in repr(cache)


def make_reader(transport: requests_mock.Adapter, **config: Any) -> VaultKeyReader:
    session = requests.Session()
    session.mount("http://", transport)
    base = VaultConfig(
        addr=ADDR, kv_mount="secret", secret_path="weather", secret_key="openweather_api_key"
    )
    return VaultKeyReader(replace(base, **{"token": "app-token", **config}), session=session)


@pytest.fixture
def transport() -> requests_mock.Adapter:
    return requests_mock.Adapter()


def test_token_login_reads_the_field(transport):
    transport.register_uri("GET", SECRET_URL, json=kv_body({"openweather_api_key": "abc"}))
    assert make_reader(transport).read() == "abc"
    assert transport.last_request.headers["X-Vault-Token"] == "app-token"


def test_approle_login_then_read(transport):
    transport.register_uri("POST", LOGIN_URL, json={"auth": {"client_token": "from-approle"}})
    transport.register_uri("GET", SECRET_URL, json=kv_body({"openweather_api_key": "abc"}))
    reader = make_reader(transport, token="", role_id="role", secret_id="sid")
    assert reader.read() == "abc"
    assert transport.request_history[0].json() == {"role_id": "role", "secret_id": "sid"}
    assert transport.last_request.headers["X-Vault-Token"] == "from-approle"


def test_approle_secret_id_can_come_from_a_file(transport, tmp_path):
    secret_file = tmp_path / "secret-id"
    secret_file.write_text("sid-from-file\n")
    transport.register_uri("POST", LOGIN_URL, json={"auth": {"client_token": "t"}})
    transport.register_uri("GET", SECRET_URL, json=kv_body({"openweather_api_key": "abc"}))
    reader = make_reader(transport, token="", role_id="role", secret_id_file=str(secret_file))
    assert reader.read() == "abc"
    assert transport.request_history[0].json()["secret_id"] == "sid-from-file"


def test_an_expired_approle_token_logs_in_again(transport):
    tokens = iter(["t1", "t2"])
    transport.register_uri(
        "POST", LOGIN_URL, json=lambda r, c: {"auth": {"client_token": next(tokens)}}
    )

    def secret(request, context):
        if request.headers["X-Vault-Token"] == "t1":
            context.status_code = 403
            return {"errors": ["permission denied"]}
        return kv_body({"openweather_api_key": "abc"})

    transport.register_uri("GET", SECRET_URL, json=secret)
    reader = make_reader(transport, token="", role_id="role", secret_id="sid")
    assert reader.read() == "abc"
    assert [r.method for r in transport.request_history] == ["POST", "GET", "POST", "GET"]


def test_no_credentials_is_not_configured_even_with_vault_token_in_the_environment(
    transport, monkeypatch
):
    monkeypatch.setenv("VAULT_TOKEN", "ambient-token")
    reader = make_reader(transport, token="")
    with pytest.raises(VaultNotConfigured):
        reader.read()
    assert transport.call_count == 0


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (403, {"errors": ["permission denied"]}, VaultPermissionDenied),
        (401, {"errors": ["unauthorized"]}, VaultPermissionDenied),
        (404, {"errors": []}, SecretMissing),
        (503, {"errors": ["Vault is sealed"]}, VaultSealed),
        (501, {"errors": ["Vault is not initialized"]}, VaultSealed),
        (500, {"errors": ["internal error"]}, VaultUnreachable),
    ],
)
def test_vault_answers_map_to_typed_errors(transport, status, body, error):
    transport.register_uri("GET", SECRET_URL, status_code=status, json=body)
    with pytest.raises(error):
        make_reader(transport).read()


def test_connection_failure_is_unreachable(transport):
    transport.register_uri("GET", SECRET_URL, exc=requests.ConnectionError("refused"))
    with pytest.raises(VaultUnreachable):
        make_reader(transport).read()


@pytest.mark.parametrize(
    "data", [{}, {"openweather_api_key": ""}, {"openweather_api_key": 42}, {"other": "x"}]
)
def test_missing_or_empty_field_is_secret_missing(transport, data):
    transport.register_uri("GET", SECRET_URL, json=kv_body(data))
    with pytest.raises(SecretMissing) as excinfo:
        make_reader(transport).read()
    assert "openweather_api_key" in str(excinfo.value)


def test_config_repr_hides_credentials():
    config = VaultConfig(
        addr=ADDR,
        kv_mount="secret",
        secret_path="weather",
        secret_key="k",
        token="tok-123",
        secret_id="sid-456",
    )
    assert "tok-123" not in repr(config)
    assert "sid-456" not in repr(config)
