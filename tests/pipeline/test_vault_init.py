"""docker/vault-init.sh, the compose stack's one-shot seeder, against a real OpenBao.

The same script seeds Vault in GitLab's integration job and for the container run
here, so these tests pin what the web app is granted: read access to one secret.
"""

from __future__ import annotations

import stat
from pathlib import Path

import hvac
import pytest
from hvac.exceptions import Forbidden

from tests.pipeline.conftest import vault_init
from tests.pipeline.support import ROOT
from tests.support.openbao import OpenBaoServer

KEY = "owm-vault-init-test-key"


@pytest.fixture
def server():
    with OpenBaoServer() as server:
        yield server


def app_client(server: OpenBaoServer, secret_file: Path) -> hvac.Client:
    client = hvac.Client(url=server.addr, token="", timeout=5)
    client.auth.approle.login(role_id="weather-web", secret_id=secret_file.read_text().strip())
    return client


def test_the_app_role_can_read_the_key_and_nothing_else(server, tmp_path):
    secret_file = tmp_path / "secret-id"
    result = vault_init(server, secret_file, key=KEY)
    assert result.returncode == 0, result.stdout + result.stderr
    assert KEY not in result.stdout + result.stderr

    info = secret_file.stat()
    assert (info.st_uid, info.st_gid) == (10001, 10001)
    assert stat.S_IMODE(info.st_mode) == 0o600
    assert secret_file.read_text().strip() not in result.stdout + result.stderr

    client = app_client(server, secret_file)
    secret = client.secrets.kv.v2.read_secret_version(
        path="weather", mount_point="secret", raise_on_deleted_version=True
    )
    assert secret["data"]["data"] == {"openweather_api_key": KEY}
    with pytest.raises(Forbidden):
        client.secrets.kv.v2.create_or_update_secret(
            path="weather", secret={"openweather_api_key": "x"}, mount_point="secret"
        )
    server.write_secret(mount="secret", path="other", data={"x": "y"})
    with pytest.raises(Forbidden):
        client.secrets.kv.v2.read_secret_version(
            path="other", mount_point="secret", raise_on_deleted_version=True
        )


def test_running_it_again_converges_and_issues_a_new_secret_id(server, tmp_path):
    secret_file = tmp_path / "secret-id"
    assert vault_init(server, secret_file, key=KEY).returncode == 0
    first = secret_file.read_text()
    result = vault_init(server, secret_file, key=KEY + "-rotated")
    assert result.returncode == 0, result.stdout + result.stderr
    assert secret_file.read_text() != first
    data = app_client(server, secret_file).secrets.kv.v2.read_secret_version(
        path="weather", mount_point="secret", raise_on_deleted_version=True
    )["data"]["data"]
    assert data == {"openweather_api_key": KEY + "-rotated"}


def test_without_a_key_it_seeds_the_demo_key_the_fake_upstream_accepts(server, tmp_path):
    secret_file = tmp_path / "secret-id"
    result = vault_init(server, secret_file, key="")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "demo key" in result.stdout
    data = app_client(server, secret_file).secrets.kv.v2.read_secret_version(
        path="weather", mount_point="secret", raise_on_deleted_version=True
    )["data"]["data"]
    assert data == {"openweather_api_key": "demo-key"}


def test_a_copy_granting_more_than_read_is_rejected_by_its_own_check(server, tmp_path):
    broken = tmp_path / "vault-init.sh"
    text = (ROOT / "docker" / "vault-init.sh").read_text()
    assert 'capabilities = ["read"]' in text
    broken.write_text(text.replace('capabilities = ["read"]', 'capabilities = ["read", "update"]'))
    result = vault_init(server, tmp_path / "secret-id", key=KEY, script=broken)
    assert result.returncode != 0
    assert "expected [read]" in result.stderr
