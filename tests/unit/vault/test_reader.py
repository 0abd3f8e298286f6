"""The Vault reader: logins, typed errors, and keeping its token alive, with Vault stubbed."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
import requests
import requests_mock

from tests.fakes.clock import Clock
from weather.vault import (
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
K8S_LOGIN_URL = f"{ADDR}/v1/auth/kubernetes/login"
LOOKUP_URL = f"{ADDR}/v1/auth/token/lookup-self"
RENEW_URL = f"{ADDR}/v1/auth/token/renew-self"


def kv_body(data: dict[str, str]) -> dict[str, Any]:
    return {"data": {"data": data, "metadata": {"version": 1}}}


def auth_body(token: str, *, ttl: int = 3600, renewable: bool = True) -> dict[str, Any]:
    return {"auth": {"client_token": token, "lease_duration": ttl, "renewable": renewable}}


def make_reader(
    transport: requests_mock.Adapter, *, clock: Clock | None = None, **config: Any
) -> VaultKeyReader:
    session = requests.Session()
    session.mount("http://", transport)
    base = VaultConfig(
        addr=ADDR, kv_mount="secret", secret_path="weather", secret_key="openweather_api_key"
    )
    return VaultKeyReader(
        replace(base, **{"token": "app-token", **config}),
        session=session,
        clock=clock or Clock(),
        keep_alive=False,  # the tests turn the keeper's crank themselves
    )


@pytest.fixture
def transport() -> requests_mock.Adapter:
    adapter = requests_mock.Adapter()
    adapter.register_uri("GET", LOOKUP_URL, json={"data": {"ttl": 0, "renewable": False}})
    return adapter


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


# --- the Kubernetes login ---------------------------------------------------------------


@pytest.fixture
def service_account_token(tmp_path) -> Any:
    """The projected token file the kubelet writes (and rewrites) in the pod."""
    path = tmp_path / "token"
    path.write_text("jwt-one\n")
    return path


def kubernetes_reader(transport, token_path, **config: Any) -> VaultKeyReader:
    return make_reader(
        transport, token="", k8s_role="weather", k8s_token_path=str(token_path), **config
    )


def test_kubernetes_login_sends_the_service_account_token_then_reads(
    transport, service_account_token
):
    transport.register_uri("POST", K8S_LOGIN_URL, json=auth_body("from-k8s"))
    transport.register_uri("GET", SECRET_URL, json=kv_body({"openweather_api_key": "abc"}))
    reader = kubernetes_reader(transport, service_account_token)
    assert reader.read() == "abc"
    assert transport.request_history[0].json() == {"role": "weather", "jwt": "jwt-one"}
    assert transport.last_request.headers["X-Vault-Token"] == "from-k8s"
    assert reader.lease is not None
    assert reader.lease.renewable


def test_kubernetes_login_uses_the_configured_mount(transport, service_account_token):
    login = transport.register_uri(
        "POST", f"{ADDR}/v1/auth/k8s-prod/login", json=auth_body("from-k8s")
    )
    transport.register_uri("GET", SECRET_URL, json=kv_body({"openweather_api_key": "abc"}))
    assert kubernetes_reader(transport, service_account_token, k8s_mount="k8s-prod").read()
    assert login.call_count == 1


def test_a_refused_kubernetes_token_logs_in_again_with_the_rotated_jwt(
    transport, service_account_token
):
    tokens = iter(["t1", "t2"])
    login = transport.register_uri("POST", K8S_LOGIN_URL, json=lambda r, c: auth_body(next(tokens)))

    def secret(request, context):
        if request.headers["X-Vault-Token"] == "t1":
            service_account_token.write_text("jwt-two\n")  # the kubelet rotated it
            context.status_code = 403
            return {"errors": ["permission denied"]}
        return kv_body({"openweather_api_key": "abc"})

    transport.register_uri("GET", SECRET_URL, json=secret)
    reader = kubernetes_reader(transport, service_account_token)
    assert reader.read() == "abc"
    assert [r.json()["jwt"] for r in login.request_history] == ["jwt-one", "jwt-two"]


def test_a_kubernetes_token_that_cannot_be_renewed_is_replaced_by_a_new_login(
    transport, service_account_token
):
    clock = Clock()
    tokens = iter(["t1", "t2"])
    login = transport.register_uri(
        "POST", K8S_LOGIN_URL, json=lambda r, c: auth_body(next(tokens), ttl=30, renewable=False)
    )
    transport.register_uri("GET", SECRET_URL, json=kv_body({"openweather_api_key": "abc"}))
    reader = make_reader(
        transport,
        clock=clock,
        token="",
        k8s_role="weather",
        k8s_token_path=str(service_account_token),
    )
    reader.read()
    clock.now += 20
    assert reader.keep_token_alive() == pytest.approx(20)
    assert login.call_count == 2
    reader.read()
    assert transport.last_request.headers["X-Vault-Token"] == "t2"


def test_a_denied_kubernetes_login_is_permission_denied(transport, service_account_token):
    transport.register_uri(
        "POST", K8S_LOGIN_URL, status_code=403, json={"errors": ["permission denied"]}
    )
    secret = transport.register_uri("GET", SECRET_URL, json=kv_body({"x": "y"}))
    with pytest.raises(VaultPermissionDenied, match="Kubernetes login"):
        kubernetes_reader(transport, service_account_token).read()
    assert secret.call_count == 0


def test_no_service_account_token_is_not_configured(transport, tmp_path):
    with pytest.raises(VaultNotConfigured, match="service account token"):
        kubernetes_reader(transport, tmp_path / "absent").read()
    assert transport.call_count == 0


def test_approle_wins_over_kubernetes_and_kubernetes_over_a_token():
    base = VaultConfig(addr=ADDR, kv_mount="secret", secret_path="w", secret_key="k")
    both = replace(base, role_id="r", secret_id="s", k8s_role="weather", token="t")
    assert both.uses_approle
    assert not both.uses_kubernetes
    k8s = replace(base, k8s_role="weather", token="t", token_file="/f")
    assert k8s.uses_kubernetes
    assert not k8s.uses_token_file
    assert k8s.can_log_in_again


# --- the token's lifetime -------------------------------------------------------------


def test_a_token_is_looked_up_and_renewed_at_two_thirds_of_its_ttl(transport):
    clock = Clock()
    transport.register_uri("GET", LOOKUP_URL, json={"data": {"ttl": 30, "renewable": True}})
    transport.register_uri("GET", SECRET_URL, json=kv_body({"openweather_api_key": "abc"}))
    renew = transport.register_uri("POST", RENEW_URL, json=auth_body("app-token", ttl=30))
    reader = make_reader(transport, clock=clock)
    reader.read()
    assert reader.keep_token_alive() == pytest.approx(20)
    clock.now += 20
    assert reader.keep_token_alive() == pytest.approx(20)
    assert renew.call_count == 1
    assert renew.last_request.headers["X-Vault-Token"] == "app-token"
    assert reader.lease is not None
    assert reader.lease.expires_at == pytest.approx(clock.now + 30)


def test_a_token_that_never_expires_needs_no_keeping(transport):
    transport.register_uri("GET", SECRET_URL, json=kv_body({"openweather_api_key": "abc"}))
    reader = make_reader(transport)
    reader.read()
    assert reader.keep_token_alive() is None


def approle_reader(
    transport: requests_mock.Adapter,
    clock: Clock,
    tokens: list[str],
    *,
    ttl: int = 30,
    renewable: bool = True,
) -> tuple[VaultKeyReader, Any]:
    """A reader logged in by AppRole, whose logins hand out ``tokens`` in turn."""
    issued = iter(tokens)
    login = transport.register_uri(
        "POST",
        LOGIN_URL,
        json=lambda r, c: auth_body(next(issued), ttl=ttl, renewable=renewable),
    )
    transport.register_uri("GET", SECRET_URL, json=kv_body({"openweather_api_key": "abc"}))
    reader = make_reader(transport, clock=clock, token="", role_id="role", secret_id="sid")
    reader.read()
    return reader, login


def test_an_approle_token_that_cannot_be_renewed_is_replaced_by_a_new_login(transport):
    clock = Clock()
    reader, login = approle_reader(transport, clock, ["t1", "t2"], renewable=False)
    clock.now += 20
    assert reader.keep_token_alive() == pytest.approx(20)
    assert login.call_count == 2
    reader.read()
    assert transport.last_request.headers["X-Vault-Token"] == "t2"


def test_a_failed_renewal_logs_in_again(transport):
    clock = Clock()
    reader, login = approle_reader(transport, clock, ["t1", "t2"])
    transport.register_uri("POST", RENEW_URL, status_code=403, json={"errors": ["denied"]})
    clock.now += 20
    reader.keep_token_alive()
    assert login.call_count == 2


def test_a_token_at_its_max_ttl_is_used_up_then_replaced(transport):
    clock = Clock()
    reader, login = approle_reader(transport, clock, ["t1", "t2"])
    # Vault caps the renewal at the max TTL: 10 s left, no more than before.
    transport.register_uri("POST", RENEW_URL, json=auth_body("t1", ttl=10))
    clock.now += 20
    assert reader.keep_token_alive() == pytest.approx(10 * 2 / 3)
    assert login.call_count == 1
    clock.now += 10 * 2 / 3
    reader.keep_token_alive()
    assert login.call_count == 2


def test_when_vault_is_down_the_old_token_is_kept_and_tried_again(transport):
    clock = Clock()
    reader, _ = approle_reader(transport, clock, ["t1"])
    transport.register_uri("POST", RENEW_URL, exc=requests.ConnectionError)
    transport.register_uri("POST", LOGIN_URL, exc=requests.ConnectionError)
    clock.now += 20
    assert 1 <= (reader.keep_token_alive() or 0) <= 30
    assert reader.lease is not None
    assert reader.lease.expires_at == pytest.approx(1_030)


def test_a_refused_token_file_is_read_again_and_the_read_retried_once(transport, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("old-token\n")

    def secret(request, context):
        if request.headers["X-Vault-Token"] == "old-token":
            token_file.write_text("new-token\n")  # Vault Agent rotated it meanwhile
            context.status_code = 403
            return {"errors": ["permission denied"]}
        return kv_body({"openweather_api_key": "abc"})

    transport.register_uri("GET", SECRET_URL, json=secret)
    reader = make_reader(transport, token="", token_file=str(token_file))
    assert reader.read() == "abc"
    tokens = [r.headers["X-Vault-Token"] for r in transport.request_history if r.url == SECRET_URL]
    assert tokens == ["old-token", "new-token"]


def test_a_refused_token_file_that_did_not_change_is_not_retried(transport, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("old-token\n")
    secret = transport.register_uri("GET", SECRET_URL, status_code=403, json={"errors": ["no"]})
    reader = make_reader(transport, token="", token_file=str(token_file))
    with pytest.raises(VaultPermissionDenied):
        reader.read()
    assert secret.call_count == 1


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
