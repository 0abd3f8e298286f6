"""The project served by gunicorn on loopback, with production settings, over a shared database.

Used where several worker processes matter: single-flight refresh, the shared
budget, and what users see while a dependency is down.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.support.network import free_port
from tests.support.processes import stop_process, wait_until

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SECRET_KEY = "live-server-test-only-" + "k" * 40
DEFAULT_APP = "weatherproject.wsgi:application"


def base_env(**overrides: str) -> dict[str, str]:
    """Production settings on plain HTTP, with nothing inherited from the caller's Django env."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "VAULT_", "OPENWEATHER_", "WEATHER_", "DATABASE_URL"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="weatherproject.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=SECRET_KEY,
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


def app_env(
    *,
    database_url: str,
    static_root: str,
    vault_addr: str,
    vault_token: str,
    upstream_url: str,
    **overrides: str,
) -> dict[str, str]:
    """``base_env`` for the app wired to a database, Vault (by token) and an OpenWeather.

    Every test client connects from 127.0.0.1, so to the app they are one client: its
    share of the budget is the whole site's here, unless a test (of the share) says so.
    """
    return base_env(
        DATABASE_URL=database_url,
        DJANGO_STATIC_ROOT=static_root,
        VAULT_ADDR=vault_addr,
        VAULT_TOKEN=vault_token,
        OPENWEATHER_BASE_URL=upstream_url,
        **{**ONE_CLIENT_IS_THE_SITE, **overrides},
    )


@contextmanager
def wired_app(
    workdir: Path,
    *,
    static_root: str,
    vault_addr: str,
    vault_token: str,
    upstream_url: str,
    **overrides: str,
) -> Iterator[dict[str, str]]:
    """``app_env`` over a fresh database (``fresh_database``), dropped afterwards."""
    with fresh_database(workdir) as database_url:
        yield app_env(
            database_url=database_url,
            static_root=static_root,
            vault_addr=vault_addr,
            vault_token=vault_token,
            upstream_url=upstream_url,
            **overrides,
        )


ONE_CLIENT_IS_THE_SITE = {
    "WEATHER_CLIENT_BUDGET_PER_MINUTE": "1000000",
    "WEATHER_CLIENT_BUDGET_PER_DAY": "1000000",
}


def manage(*args: str, env: dict[str, str]) -> str:
    """Run a management command with ``env``; return what it printed."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,
        capture_output=True, timeout=120,
    )  # fmt: skip
    return done.stdout.decode()


@contextmanager
def fresh_database(workdir: Path) -> Iterator[str]:
    """A migrated, empty database that several processes can share; yields its URL.

    PostgreSQL when DATABASE_URL points at it (as in CI), else a SQLite file.
    """
    base = os.environ.get("DATABASE_URL", "")
    if base.startswith(("postgres://", "postgresql://")):
        import psycopg

        name = f"weather_live_{uuid.uuid4().hex[:12]}"
        admin_url = base.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = base.rsplit("/", 1)[0] + f"/{name}"
        try:
            manage("migrate", "--no-input", env=base_env(DATABASE_URL=url))
            yield url
        finally:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        url = f"sqlite:///{workdir / 'live.sqlite3'}"
        manage("migrate", "--no-input", env=base_env(DATABASE_URL=url))
        yield url


def collect_static(target: Path) -> None:
    manage("collectstatic", "--no-input", env=base_env(DJANGO_STATIC_ROOT=str(target)))


class AppServer:
    """``gunicorn weatherproject.wsgi`` with N workers on a free loopback port."""

    def __init__(
        self,
        *,
        env: dict[str, str],
        workers: int = 4,
        threads: int = 1,
        app: str = DEFAULT_APP,
        extra_args: tuple[str, ...] = (),
        port: int | None = None,
    ) -> None:
        self.env = env
        self.app = app
        self.extra_args = extra_args
        self.workers = workers
        self.threads = threads
        # A given port: a replacement for a stopped server, where a proxy expects it.
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._log_dir = tempfile.TemporaryDirectory(prefix="gunicorn-")
        self._log_path = Path(self._log_dir.name) / "server.log"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, *, timeout: float = 30) -> AppServer:
        self._log = self._log_path.open("ab")
        self._process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                self.app,
                f"--bind=127.0.0.1:{self.port}",
                f"--workers={self.workers}",
                f"--threads={self.threads}",
                "--timeout=30",
                "--graceful-timeout=5",
                *self.extra_args,
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        wait_until(
            self._answers,
            what="gunicorn",
            timeout=timeout,
            process=self._process,
            log=self.log_text,
            on_failure=self.stop,
        )
        return self

    def _answers(self) -> bool:
        if self.app != DEFAULT_APP:  # an app without /healthz: accepting connections will do
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        return requests.get(f"{self.base_url}/healthz", timeout=1).status_code == 200

    def stop(self) -> None:
        stop_process(self._process, grace=15)
        self._process = None
        if getattr(self, "_log", None):
            self._log.close()

    def __enter__(self) -> AppServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._log_dir.cleanup()

    @property
    def pid(self) -> int:
        """The gunicorn master's process id (its workers are its children)."""
        if self._process is None:
            raise RuntimeError("not started")
        return self._process.pid

    def log_text(self) -> str:
        return self._log_path.read_text(errors="replace") if self._log_path.exists() else ""

    def get(self, path: str, **params: str | float) -> requests.Response:
        return requests.get(f"{self.base_url}{path}", params=params, timeout=30)
