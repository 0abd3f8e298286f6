"""The Vault reader against a real OpenBao server: logins, policies, token renewal and
failures; and the app under gunicorn while Vault hangs."""

from __future__ import annotations

import concurrent.futures
import statistics
import threading
import time
from dataclasses import replace
from typing import Any

import pytest
import requests

from tests.conftest import API_KEY
from tests.support.appserver import AppServer
from tests.support.openbao import OpenBaoServer
from tests.support.silent_server import SilentServer
from weather.vault import (
    SecretMissing,
    VaultConfig,
    VaultError,
    VaultKeyReader,
    VaultPermissionDenied,
    VaultSealed,
    VaultUnreachable,
)

pytestmark = pytest.mark.integration


def reader_for(server: OpenBaoServer, **config: Any) -> VaultKeyReader:
    base = VaultConfig(
        addr=server.addr,
        kv_mount="secret",
        secret_path="weather",
        secret_key="openweather_api_key",
    )
    return VaultKeyReader(replace(base, **config))


def keep_reading(reader: VaultKeyReader, *, seconds: float) -> list[str]:
    """Read the key every 0.25 s for ``seconds``; return what each read gave or raised."""
    outcomes = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            outcomes.append(reader.read())
        except VaultError as exc:
            outcomes.append(type(exc).__name__)
        time.sleep(0.25)
    return outcomes


def test_token_login_reads_the_key(openbao_server, vault_token):
    assert reader_for(openbao_server, token=vault_token).read() == API_KEY


def test_token_can_come_from_a_file(openbao_server, vault_token, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(vault_token + "\n")
    assert reader_for(openbao_server, token_file=str(token_file)).read() == API_KEY


def test_approle_login_reads_the_key(openbao_server, vault_token):
    creds = openbao_server.create_approle(role="weather-web", policy="weather-read")
    reader = reader_for(openbao_server, role_id=creds.role_id, secret_id=creds.secret_id)
    assert reader.read() == API_KEY


def test_approle_secret_id_from_a_file(openbao_server, vault_token, tmp_path):
    creds = openbao_server.create_approle(role="weather-web", policy="weather-read")
    secret_file = tmp_path / "secret-id"
    secret_file.write_text(creds.secret_id)
    reader = reader_for(openbao_server, role_id=creds.role_id, secret_id_file=str(secret_file))
    assert reader.read() == API_KEY


def test_a_revoked_approle_token_is_replaced_by_logging_in_again(openbao_server, vault_token):
    creds = openbao_server.create_approle(role="weather-web", policy="weather-read")
    reader = reader_for(openbao_server, role_id=creds.role_id, secret_id=creds.secret_id)
    reader.read()
    assert reader._client is not None
    first_token = reader._client.token
    openbao_server.root_client().auth.token.revoke(first_token)
    assert reader.read() == API_KEY
    assert reader._client.token != first_token


def test_wrong_approle_secret_is_permission_denied(openbao_server, vault_token):
    creds = openbao_server.create_approle(role="weather-web", policy="weather-read")
    reader = reader_for(openbao_server, role_id=creds.role_id, secret_id="not-the-secret-id")
    with pytest.raises(VaultPermissionDenied):
        reader.read()


def test_the_app_token_cannot_read_other_secrets(openbao_server, vault_token):
    openbao_server.write_secret(mount="secret", path="other", data={"openweather_api_key": "x"})
    with pytest.raises(VaultPermissionDenied):
        reader_for(openbao_server, token=vault_token, secret_path="other").read()


def test_an_unknown_token_is_permission_denied(openbao_server, vault_token):
    with pytest.raises(VaultPermissionDenied):
        reader_for(openbao_server, token="hvs.not-a-real-token").read()


def test_missing_path_is_secret_missing(openbao_server, vault_token):
    openbao_server.put_policy(name="nowhere", mount="secret", path="nowhere")
    token = openbao_server.create_token(policy="nowhere")
    with pytest.raises(SecretMissing):
        reader_for(openbao_server, token=token, secret_path="nowhere").read()


def test_missing_field_is_secret_missing(openbao_server, vault_token):
    with pytest.raises(SecretMissing):
        reader_for(openbao_server, token=vault_token, secret_key="no_such_field").read()


def test_sealed_and_unsealed_again(own_openbao):
    server, token = own_openbao
    reader = reader_for(server, token=token)
    server.seal()
    with pytest.raises(VaultSealed):
        reader.read()
    server.unseal()
    assert reader.read() == API_KEY


def test_stopped_server_is_unreachable(own_openbao):
    server, token = own_openbao
    reader = reader_for(server, token=token)
    server.stop()
    with pytest.raises(VaultUnreachable):
        reader.read()


# --- the token's lifetime ---------------------------------------------------------------


def test_a_short_lived_renewable_token_is_kept_alive_for_many_ttls(openbao_server, vault_token):
    token = openbao_server.create_token(policy="weather-read", ttl="3s")
    reader = reader_for(openbao_server, token=token)
    try:
        outcomes = keep_reading(reader, seconds=10)
        assert set(outcomes) == {API_KEY}, outcomes
        assert reader.lease is not None
        assert reader.lease.renewable
    finally:
        reader.close()


def test_an_approle_token_is_renewed_then_replaced_at_its_max_ttl(openbao_server, vault_token):
    creds = openbao_server.create_approle(
        role="weather-short", policy="weather-read", token_ttl="3s", token_max_ttl="5s"
    )
    reader = reader_for(openbao_server, role_id=creds.role_id, secret_id=creds.secret_id)
    try:
        reader.read()
        assert reader._client is not None
        first_token = reader._client.token
        outcomes = keep_reading(reader, seconds=10)
        assert set(outcomes) == {API_KEY}, outcomes
        assert reader._client.token != first_token  # a new login once renewal ran out
    finally:
        reader.close()


def test_a_rotated_token_file_is_read_again_after_a_refusal(openbao_server, vault_token, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(vault_token)
    reader = reader_for(openbao_server, token_file=str(token_file))
    assert reader.read() == API_KEY
    # What Vault Agent does: a new token in the sink file, the old one revoked.
    token_file.write_text(openbao_server.create_token(policy="weather-read"))
    openbao_server.root_client().auth.token.revoke(vault_token)
    assert reader.read() == API_KEY


# --- a Vault that accepts connections and never answers -----------------------------------


def test_a_hanging_vault_delays_neither_healthz_nor_anyone_for_long(server_env):
    timeout, backoff = 1.0, 2.0
    with SilentServer() as vault:
        env = {
            **server_env,
            "VAULT_ADDR": vault.addr,
            "VAULT_TIMEOUT": str(timeout),
            "VAULT_RETRY_BACKOFF": str(backoff),
            "VAULT_RETRY_BACKOFF_MAX": "30",
        }
        with AppServer(env=env, workers=1, threads=4) as server:
            stop = threading.Event()

            def lookups() -> list[int]:
                statuses = []
                while not stop.is_set():
                    statuses.append(server.get("/api/weather", q="Paris").status_code)
                return statuses

            with concurrent.futures.ThreadPoolExecutor(3) as pool:
                clients = [pool.submit(lookups) for _ in range(3)]
                healthz = []
                deadline = time.monotonic() + 9
                while time.monotonic() < deadline:
                    started = time.monotonic()
                    assert requests.get(f"{server.base_url}/healthz", timeout=5).ok
                    healthz.append(time.monotonic() - started)
                    time.sleep(0.05)
                stop.set()
                statuses = [status for c in clients for status in c.result()]

    assert set(statuses) == {503}
    print(
        f"/healthz with Vault hanging: median {statistics.median(healthz) * 1000:.1f} ms, "
        f"max {max(healthz) * 1000:.1f} ms over {len(healthz)}; "
        f"{len(statuses)} lookups, {len(vault.accepted_at)} Vault connections"
    )
    assert statistics.median(healthz) < 0.1
    assert max(healthz) < 1.0  # generous: a loaded 2-core machine
    # One worker: one read at a time, each followed by a growing backoff window.
    # Read n starts at least `timeout` (it hung) plus half its window after read n-1.
    assert 1 <= len(vault.accepted_at) <= 4
    gaps = [b - a for a, b in zip(vault.accepted_at, vault.accepted_at[1:], strict=False)]
    for n, gap in enumerate(gaps, start=1):
        assert gap >= timeout + backoff / 2 * 2 ** (n - 1) - 0.1, gaps
