"""The stand-ins for images no registry serves here (proof/tools/stand-in-images)
keep the official images' documented interface, as far as .gitlab-ci.yml's services
and compose.yaml use it.

Each container runs on podman's default network with its port published on loopback,
so what is reached is the address the server listens on inside its container, as a
job or a compose service reaches it by its alias.
"""

from __future__ import annotations

import re
import time
import urllib.request
from collections.abc import Callable
from typing import TypeVar

import psycopg
import pytest
from ruamel.yaml import YAML

from proof.pipeline.support import ROOT, inspect, output, podman, running
from tests.support.network import free_port
from tests.support.processes import wait_until

POSTGRES = "docker.io/library/postgres:17-alpine"
OPENBAO = "docker.io/openbao/openbao:2.7.2"
NGINX = "docker.io/library/nginx:1.28-alpine"
T = TypeVar("T")


def published(port: int, inside: int) -> list[str]:
    return ["--publish", f"127.0.0.1:{port}:{inside}"]


def ready(check: Callable[[], T], name: str, *, timeout: float = 60) -> T:
    """Wait until check() answers, showing the container's log if it never does."""

    def attempt() -> T | None:
        try:
            return check()
        except psycopg.OperationalError:
            return None

    found = wait_until(
        attempt, what=name, timeout=timeout, log=lambda: output(podman("logs", name))
    )
    assert found is not None  # wait_until returns only a true answer
    return found


def uid_of_pid_1(name: str) -> str:
    status = podman("exec", name, "cat", "/proc/1/status").stdout
    return next(line.split()[1] for line in status.splitlines() if line.startswith("Uid:"))


def test_every_service_image_of_the_pipeline_is_held_under_its_own_name(stand_ins):
    pipeline = YAML(typ="safe").load(ROOT / ".gitlab-ci.yml")
    services = [
        service["name"] if isinstance(service, dict) else service
        for job in pipeline.values()
        if isinstance(job, dict)
        for service in job.get("services", [])
    ]
    assert {"postgres:17-alpine", "openbao/openbao:2.7.2"} <= set(services)
    for name in [*services, "nginx:1.28-alpine"]:
        # The short name resolves as a runner or compose resolves it: docker.io.
        assert podman("image", "exists", name, check=False).returncode == 0, name
    assert {POSTGRES, OPENBAO, NGINX} <= set(stand_ins)


# --- postgres -------------------------------------------------------------------------


def test_postgres_with_a_password_file_accepts_that_password_over_tcp(stand_ins, tmp_path):
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "password").write_text("s3cret-from-a-file\n")
    volume = f"weather-ci-pgdata-{free_port()}"
    env = {
        "POSTGRES_DB": "weather",
        "POSTGRES_USER": "weather",
        "POSTGRES_PASSWORD_FILE": "/run/secrets/db/password",
    }
    mounts = [
        "--volume",
        f"{secrets}:/run/secrets/db:ro",
        "--volume",
        f"{volume}:/var/lib/postgresql/data",
    ]
    port = free_port()
    url = f"postgresql://weather:s3cret-from-a-file@127.0.0.1:{port}/weather"
    try:
        with running(POSTGRES, env=env, options=[*mounts, *published(port, 5432)]) as name:
            with ready(lambda: psycopg.connect(url, connect_timeout=2), name) as db:
                row = db.execute("SELECT current_user, current_database()").fetchone()
                db.execute("CREATE TABLE kept (note text)")
                db.execute("INSERT INTO kept VALUES ('still here')")
                db.commit()
            assert row == ("weather", "weather")
            # The password is checked, not waved through.
            with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
                psycopg.connect(url.replace("s3cret-from-a-file", "wrong"), connect_timeout=5)
            assert uid_of_pid_1(name) != "0", "the server runs as root"
            assert podman("exec", name, "pg_isready", "--host=127.0.0.1").returncode == 0
            logs = output(podman("logs", name))
            # Initialised by a temporary server first, before listening on TCP.
            assert logs.index("init process complete") < logs.index(
                'listening on IPv4 address "0.0.0.0"'
            )
        # A second start on the same volume keeps the data and does not initialise again.
        with running(POSTGRES, env=env, options=[*mounts, *published(port, 5432)]) as name:
            with ready(lambda: psycopg.connect(url, connect_timeout=2), name) as db:
                assert db.execute("SELECT note FROM kept").fetchall() == [("still here",)]
            assert "init process complete" not in output(podman("logs", name))
    finally:
        podman("volume", "rm", "--force", volume, check=False)


def test_postgres_as_the_pipeline_configures_it_trusts_without_a_password(stand_ins):
    env = {
        "POSTGRES_DB": "weather",
        "POSTGRES_USER": "weather",
        "POSTGRES_HOST_AUTH_METHOD": "trust",
    }
    port = free_port()
    url = f"postgresql://weather@127.0.0.1:{port}/weather"
    with (
        running(POSTGRES, env=env, options=published(port, 5432)) as name,
        ready(lambda: psycopg.connect(url, connect_timeout=2), name) as db,
    ):
        assert db.execute("SELECT current_user").fetchone() == ("weather",)


def test_postgres_without_a_password_or_trust_refuses_to_initialise(stand_ins):
    result = podman("run", "--rm", POSTGRES, check=False)
    assert result.returncode != 0
    assert "superuser password is not specified" in output(result)


# --- openbao --------------------------------------------------------------------------


def bao_health(port: int, token: str) -> bytes:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/auth/token/lookup-self", headers={"X-Vault-Token": token}
    )
    with urllib.request.urlopen(request, timeout=2) as answer:
        body: bytes = answer.read()
        return body


def test_openbao_default_command_is_a_dev_server_with_the_given_root_token(stand_ins):
    port, token = free_port(), f"dev-root-{free_port()}"
    env = {"BAO_DEV_ROOT_TOKEN_ID": token}
    with running(OPENBAO, env=env, options=published(port, 8200)) as name:
        body = ready(lambda: bao_health(port, token), name)
        assert f'"id":"{token}"'.encode() in body
        assert uid_of_pid_1(name) != "0", "the server runs as root"
        status = podman(
            "exec", "--env", "BAO_ADDR=http://127.0.0.1:8200", name, "/bin/sh", "-c", "bao status"
        )
        assert re.search(r"^Sealed\s+false$", status.stdout, re.M), status.stdout


def test_openbao_listens_where_bao_dev_listen_address_says(stand_ins):
    port, token = free_port(), "dev-root-moved"
    env = {"BAO_DEV_ROOT_TOKEN_ID": token, "BAO_DEV_LISTEN_ADDRESS": "0.0.0.0:8300"}
    with running(OPENBAO, env=env, options=published(port, 8300)) as name:
        ready(lambda: bao_health(port, token), name)


# --- nginx ----------------------------------------------------------------------------


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=2) as answer:
        text: str = answer.read().decode()
        return text


def test_nginx_serves_a_mounted_conf_d_file_and_logs_to_stdout(stand_ins, tmp_path):
    conf = tmp_path / "default.conf"
    conf.write_text('server {\n  listen 8080;\n  location / { return 200 "from conf.d\\n"; }\n}\n')
    port = free_port()
    mount = ["--volume", f"{conf}:/etc/nginx/conf.d/default.conf:ro"]
    with running(NGINX, options=[*mount, *published(port, 8080)]) as name:
        assert ready(lambda: get(f"http://127.0.0.1:{port}/probe"), name) == "from conf.d\n"
        time.sleep(0.2)  # the access log line is written after the answer
        assert '"GET /probe HTTP/1.1" 200' in podman("logs", name).stdout
        processes = podman("top", name, "user", "args").stdout.splitlines()[1:]
        workers = [line.split()[0] for line in processes if "worker process" in line]
        assert workers, processes
        assert set(workers) == {"nginx"}, processes


def test_nginx_defaults_are_the_official_images(stand_ins):
    config = inspect("image", NGINX)["Config"]
    assert config["Cmd"] == ["nginx", "-g", "daemon off;"]
    assert config["StopSignal"] == "SIGQUIT"
    port = free_port()
    with running(NGINX, options=published(port, 80)) as name:
        assert "nginx" in ready(lambda: get(f"http://127.0.0.1:{port}/"), name).lower()
        conf = podman("exec", name, "nginx", "-T").stdout
        assert "user  nginx;" in conf
        assert "include /etc/nginx/conf.d/*.conf;" in conf
