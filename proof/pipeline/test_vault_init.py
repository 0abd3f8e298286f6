"""docker/vault-init.sh, the compose stack's one-shot seeder, against a real OpenBao.

The same script seeds Vault in GitLab's integration job and for the container run
here, so these tests pin what the web app is granted: read access to one secret.
"""

from __future__ import annotations

import os
import stat
import subprocess
import uuid
from pathlib import Path

import hvac
import pytest
import requests
from hvac.exceptions import Forbidden, InvalidRequest

from proof.pipeline.conftest import vault_init
from proof.pipeline.support import ROOT
from tests.support.network import free_port
from tests.support.openbao import OpenBaoServer
from tests.support.processes import stop_process, wait_until

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
    assert "destroyed an earlier secret ID" in result.stdout
    accessors = server.root_client().list("auth/approle/role/weather-web/secret-id")
    assert len(accessors["data"]["keys"]) == 1
    with pytest.raises(InvalidRequest):  # the earlier secret ID can no longer log in
        hvac.Client(url=server.addr, token="", timeout=5).auth.approle.login(
            role_id="weather-web", secret_id=first.strip()
        )
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


def test_the_secret_id_expires_and_the_token_can_renew_itself(server, tmp_path):
    secret_file = tmp_path / "secret-id"
    result = vault_init(server, secret_file, key=KEY, SECRET_ID_TTL="2h")
    assert result.returncode == 0, result.stdout + result.stderr
    info = server.root_client().auth.approle.read_secret_id(
        role_name="weather-web", secret_id=secret_file.read_text().strip()
    )["data"]
    assert info["secret_id_ttl"] == 2 * 3600
    client = app_client(server, secret_file)
    assert client.auth.token.lookup_self()["data"]["renewable"] is True
    assert client.auth.token.renew_self()["auth"]["lease_duration"] > 0


def test_bound_cidrs_admit_only_those_addresses(server, tmp_path):
    secret_file = tmp_path / "secret-id"
    result = vault_init(server, secret_file, key=KEY, BOUND_CIDRS="127.0.0.1/32")
    assert result.returncode == 0, result.stdout + result.stderr
    app_client(server, secret_file)  # from 127.0.0.1: admitted
    role = server.root_client().auth.approle.read_role(role_name="weather-web")["data"]
    assert role["secret_id_bound_cidrs"] == ["127.0.0.1/32"]
    assert role["token_bound_cidrs"] in (["127.0.0.1"], ["127.0.0.1/32"])  # either spelling

    # Bound elsewhere, the script's own login check from 127.0.0.1 is refused.
    result = vault_init(server, secret_file, key=KEY, BOUND_CIDRS="10.0.0.0/8")
    assert result.returncode != 0
    with pytest.raises(InvalidRequest):
        app_client(server, secret_file)


def test_the_root_token_and_key_may_come_from_the_environment(server, tmp_path):
    """As in GitLab's integration job, which has no compose secrets."""
    secret_file = tmp_path / "secret-id"
    result = vault_init(server, secret_file, key=KEY, secrets_as="environment")
    assert result.returncode == 0, result.stdout + result.stderr
    data = app_client(server, secret_file).secrets.kv.v2.read_secret_version(
        path="weather", mount_point="secret", raise_on_deleted_version=True
    )["data"]["data"]
    assert data == {"openweather_api_key": KEY}


def test_compose_starts_the_dev_server_with_its_root_token_off_the_command_line(tmp_path):
    """docker/vault-dev.sh, compose's entrypoint for `vault`, run here with the host's bao."""
    token_file = tmp_path / "vault-root-token"
    token_file.write_text("compose-root-" + uuid.uuid4().hex)
    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "BAO_DEV_ROOT_TOKEN_FILE": str(token_file),
        "BAO_DEV_LISTEN_ADDRESS": f"127.0.0.1:{port}",
    }
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(
        ["sh", str(ROOT / "docker" / "vault-dev.sh")], env=env, stdout=log, stderr=log
    )
    try:
        client = hvac.Client(url=f"http://127.0.0.1:{port}", token=token_file.read_text())
        health = f"http://127.0.0.1:{port}/v1/sys/health"
        wait_until(lambda: requests.get(health, timeout=1).ok, what="OpenBao", timeout=30)
        assert client.auth.token.lookup_self()["data"]["policies"] == ["root"]
        cmdline = Path(f"/proc/{server.pid}/cmdline").read_bytes()
        assert b"server" in cmdline
        assert token_file.read_bytes() not in cmdline
    finally:
        stop_process(server, grace=10)
        log.close()
