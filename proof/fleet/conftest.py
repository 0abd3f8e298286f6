"""Three app instances (separate gunicorn masters, as separate pods would be) behind
nginx, sharing one PostgreSQL and one OpenBao. Run by `make k8s-check`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from tests.support.appserver import AppServer, wired_app
from tests.support.nginx import RoundRobinProxy

INSTANCES = 3
# The machine's PostgreSQL, when DATABASE_URL does not name one: a fleet shares a
# server, and SQLite is not one.
LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/weather"


@dataclass
class Fleet:
    instances: list[AppServer]
    proxy: RoundRobinProxy

    @property
    def base_url(self) -> str:
        return self.proxy.base_url


@pytest.fixture
def fleet_env(tmp_path, monkeypatch, openbao_server, vault_token, fake_upstream, static_root):
    """The instances' environment: a fresh PostgreSQL database, OpenBao, the fake upstream."""
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        monkeypatch.setenv("DATABASE_URL", LOCAL_POSTGRES)
    with wired_app(
        tmp_path,
        static_root=static_root,
        vault_addr=openbao_server.addr,
        vault_token=vault_token,
        upstream_url=fake_upstream.base_url,
    ) as env:
        yield env


@contextmanager
def running_fleet(env: dict[str, str]) -> Iterator[Fleet]:
    """Start the instances and nginx in front of them; stop them all afterwards."""
    instances: list[AppServer] = []
    try:
        for _ in range(INSTANCES):
            instances.append(AppServer(env=env, workers=2, threads=4).start())
        upstreams = [f"127.0.0.1:{server.port}" for server in instances]
        with RoundRobinProxy(upstreams) as proxy:
            yield Fleet(instances=instances, proxy=proxy)
    finally:
        for server in instances:
            server.__exit__()
