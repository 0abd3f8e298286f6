"""The Vault reader against a real OpenBao server: logins, policies and failures."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tests.conftest import API_KEY
from tests.support.openbao import OpenBaoServer
from weather.vault import (
    SecretMissing,
    VaultConfig,
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
