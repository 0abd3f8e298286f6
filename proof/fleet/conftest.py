"""Three app instances (separate gunicorn masters, as separate pods would be) behind
nginx, sharing one PostgreSQL and one OpenBao. Run by `make k8s-check`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from tests.support.appserver import AppServer
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
def on_postgres(monkeypatch) -> None:
    """A fleet shares a database server: PostgreSQL, the machine's unless DATABASE_URL names one."""
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        monkeypatch.setenv("DATABASE_URL", LOCAL_POSTGRES)


@pytest.fixture
def fleet_env(on_postgres, server_env):
    """The instances' environment: a fresh PostgreSQL database, OpenBao, the fake upstream
    (``server_env``, made once ``on_postgres`` has chosen the database)."""
    return server_env


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
