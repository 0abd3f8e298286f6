"""`docker compose up` for real: the Compose v2 CLI against podman's Docker-compatible
API, compose.yaml as it is, with nothing configured (no .env).

What is real and what stands in (docs/explanation/verification.md): Compose, the
engine API, networks, volumes, secrets, healthchecks, published ports and the app's
image (built by the pipeline's own script) are real; the base images this machine
cannot pull (postgres, openbao, nginx) are local stand-ins under the exact names
compose.yaml uses (proof/tools/stand-in-images). podman 4.3 runs healthchecks
only from systemd timers, which this machine lacks, so a thread runs them every
second (`podman healthcheck run`), as the timers would.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from proof.pipeline.support import PROOF_TOOLS, ROOT, podman, run
from tests.support.network import free_port

# One-shot services and what they must have done; the rest must be up (and healthy
# where they have a healthcheck).
ONE_SHOT = {"stack-secrets", "vault-init", "migrate"}
HEALTHY = {"db", "vault", "web", "fake-upstream"}
RUNNING = {"proxy", "purge"}


@pytest.fixture(scope="module")
def docker_host(podman_storage: Path) -> Iterator[str]:
    """podman's Docker-compatible API on a socket of this run's own."""
    socket = podman_storage / "docker-api.sock"
    with (podman_storage / "docker-api.log").open("w") as log:
        service = subprocess.Popen(
            ["podman", "system", "service", "--time=0", f"unix://{socket}"],
            stdout=log,
            stderr=log,
        )
    deadline = time.monotonic() + 30
    while not socket.exists():
        assert service.poll() is None, (podman_storage / "docker-api.log").read_text()
        assert time.monotonic() < deadline, "podman's API service did not start"
        time.sleep(0.2)
    try:
        yield f"unix://{socket}"
    finally:
        service.terminate()
        service.wait(timeout=30)


class Stack:
    """compose.yaml brought up as project ``name`` through the Docker API."""

    def __init__(
        self, docker_host: str, image: str, name: str, files: tuple[str, ...] = ("compose.yaml",)
    ) -> None:
        self.name = name
        self.files = files
        self.web_port, self.vault_port = free_port(), free_port()
        self.base_url = f"http://127.0.0.1:{self.web_port}"
        # A clean environment: no developer's .env or shell decides anything; only the
        # image tag (built here, not by compose) and free ports on loopback are given.
        self.env = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", "/root"),
            "DOCKER_HOST": docker_host,
            "WEATHER_IMAGE": image,
            "WEB_PORT": str(self.web_port),
            "VAULT_PORT": str(self.vault_port),
        }
        for name_ in ("CONTAINERS_CONF", "CONTAINERS_STORAGE_CONF"):
            self.env[name_] = os.environ[name_]
        self._stop = threading.Event()
        self._checker: threading.Thread | None = None

    def compose(
        self, *args: str, timeout: float = 600, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        # --env-file /dev/null: a developer's .env beside compose.yaml is not read.
        files = [arg for name in self.files for arg in ("--file", str(ROOT / name))]
        command = [
            "docker-compose", "--project-name", self.name, "--project-directory", str(ROOT),
            *files, "--env-file", "/dev/null", *args,
        ]  # fmt: skip
        result = subprocess.run(
            command, env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"docker compose {' '.join(args)} exited {result.returncode}\n"
                f"--- stdout\n{result.stdout[-6000:]}\n--- stderr\n{result.stderr[-6000:]}"
            )
        return result

    def containers(self) -> list[dict[str, Any]]:
        """Every container of the project, running or exited, as Compose reports them."""
        out = self.compose("ps", "--all", "--format", "json").stdout.strip()
        if not out:
            return []
        # Compose 2.2x prints one JSON object per line (older: one array).
        if out.startswith("["):
            found: list[dict[str, Any]] = json.loads(out)
            return found
        return [json.loads(line) for line in out.splitlines()]

    def settled(self) -> bool:
        """Every one-shot has exited and every service with a check is healthy.

        (`up --wait` would say this, but with podman it takes a disabled healthcheck's
        empty status for a failure.)"""
        states = {c["Service"]: c for c in self.containers()}
        if set(states) != ONE_SHOT | HEALTHY | RUNNING:
            return False
        return all(states[s]["State"] == "exited" for s in ONE_SHOT) and all(
            states[s]["Health"] == "healthy" for s in HEALTHY
        )

    def wait_until_settled(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while not self.settled():
            if time.monotonic() > deadline:
                raise AssertionError(f"the stack did not settle in {timeout:.0f} s")
            time.sleep(2)

    def run_healthchecks(self) -> None:
        """What podman's systemd timers would do: each container's check, every second."""

        def loop() -> None:
            while not self._stop.wait(1):
                names = podman(
                    "ps", "--filter", f"label=com.docker.compose.project={self.name}",
                    "--format", "{{.Names}}", check=False,
                ).stdout.split()  # fmt: skip
                for container in names:
                    podman("healthcheck", "run", container, check=False, timeout=30)

        self._checker = threading.Thread(target=loop, daemon=True)
        self._checker.start()

    def stop_healthchecks(self) -> None:
        self._stop.set()
        if self._checker:
            self._checker.join(timeout=60)


@pytest.fixture(scope="module")
def stand_ins(podman_storage: Path) -> list[str]:
    """The images no registry can serve here, built under compose.yaml's exact names."""
    return run([PROOF_TOOLS / "stand-in-images"], timeout=1200).stdout.split()


@pytest.fixture(scope="module")
def stack(docker_host: str, image: str, stand_ins: list[str]) -> Iterator[Stack]:
    """`docker compose up --detach --wait` with nothing configured; `down -v` after."""
    stack = Stack(docker_host, image, f"weather-ci-{secrets.token_hex(3)}")
    stack.run_healthchecks()
    try:
        stack.compose("up", "--detach", "--no-build", timeout=600)
        stack.wait_until_settled()
        yield stack
    except AssertionError:
        print(stack.compose("ps", "--all", check=False).stdout)
        print(stack.compose("logs", "--no-color", check=False).stdout[-20000:])
        raise
    finally:
        stack.compose("down", "--volumes", "--timeout", "10", check=False)
        stack.stop_healthchecks()


def by_service(stack: Stack) -> dict[str, dict[str, Any]]:
    return {c["Service"]: c for c in stack.containers()}


def test_every_service_reaches_its_documented_state(stack):
    services = by_service(stack)
    assert set(services) == ONE_SHOT | HEALTHY | RUNNING, sorted(services)
    for name in ONE_SHOT:
        assert services[name]["State"] == "exited", services[name]
        assert services[name]["ExitCode"] == 0, stack.compose("logs", name).stdout
    for name in HEALTHY:
        assert services[name]["State"] == "running", services[name]
        assert services[name]["Health"] == "healthy", services[name]
    for name in RUNNING:
        assert services[name]["State"] == "running", services[name]


def test_only_the_proxy_and_vault_are_published_on_loopback(stack):
    published = {
        (c["Service"], p["URL"], p["PublishedPort"])
        for c in stack.containers()
        for p in c.get("Publishers") or []
        if p.get("PublishedPort")
    }
    assert published == {
        ("proxy", "127.0.0.1", stack.web_port),
        ("vault", "127.0.0.1", stack.vault_port),
    }


def test_a_demo_search_answers_through_the_published_port(stack):
    page = requests.get(f"{stack.base_url}/", params={"q": "London"}, timeout=30)
    assert page.status_code == 200, page.text[:2000]
    assert "London" in page.text
    # No key was given: the bundled fake upstream, and the page says so.
    assert "running against the bundled fake OpenWeather server" in page.text
    api = requests.get(f"{stack.base_url}/api/weather", params={"q": "London"}, timeout=30)
    assert api.status_code == 200, api.text[:2000]
    assert api.json()["place"]["name"] == "London"
    ready = requests.get(f"{stack.base_url}/readyz", timeout=30)
    assert ready.status_code == 200, ready.text


def test_createsuperuser_works_in_the_running_web_container(stack):
    password = secrets.token_urlsafe(16)
    result = stack.compose(
        "exec", "--no-TTY",
        "--env", "DJANGO_SUPERUSER_USERNAME=operator",
        "--env", "DJANGO_SUPERUSER_EMAIL=operator@example.com",
        "--env", f"DJANGO_SUPERUSER_PASSWORD={password}",
        "web", "python3", "manage.py", "createsuperuser", "--noinput",
    )  # fmt: skip
    assert "Superuser created successfully" in result.stdout
    # And that operator can sign in to the admin through the proxy.
    session = requests.Session()
    login = f"{stack.base_url}/admin/login/"
    form = session.get(login, timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    assert token, form.text[:2000]
    signed_in = session.post(
        login,
        data={"csrfmiddlewaretoken": token.group(1), "username": "operator",
              "password": password, "next": "/admin/"},
        headers={"Referer": login},
        timeout=30,
    )  # fmt: skip
    assert signed_in.status_code == 200
    assert signed_in.url.endswith("/admin/"), signed_in.url
    assert "Site administration" in signed_in.text


def test_a_second_up_changes_nothing(stack):
    before = {c["Service"]: c["ID"] for c in stack.containers() if c["State"] == "running"}
    secrets_log = stack.compose("logs", "--no-color", "stack-secrets").stdout
    stack.compose("up", "--detach", "--no-build")
    stack.wait_until_settled()
    after = {c["Service"]: c["ID"] for c in stack.containers() if c["State"] == "running"}
    assert after == before  # nothing recreated
    # The one-shots ran again and kept what they made: same secrets, same database.
    assert "kept from an earlier run" in stack.compose("logs", "stack-secrets").stdout
    assert secrets_log.count("generated") == 3
    page = requests.get(f"{stack.base_url}/", params={"q": "London"}, timeout=30)
    assert page.status_code == 200


def test_the_production_like_stack_refuses_to_start_without_its_secrets(
    docker_host, image, stand_ins, tmp_path
):
    """compose.production.yaml generates nothing: with the key file given but the
    stack's own secrets missing, nothing starts, and Compose names what is missing."""
    key_file = tmp_path / "openweather-key"
    key_file.write_text("a-key-of-the-operator")
    stack = Stack(
        docker_host, image, f"weather-ci-prod-{secrets.token_hex(3)}",
        files=("compose.yaml", "compose.production.yaml"),
    )  # fmt: skip
    stack.env["OPENWEATHER_API_KEY_FILE"] = str(key_file)
    # A subnet of its own: the shared stack above is still up on the default one.
    stack.env.update(
        WEATHER_SUBNET="172.29.54.0/24",
        WEATHER_CONTAINER_RANGE="172.29.54.128/25",
        WEATHER_GATEWAY="172.29.54.1",
    )
    try:
        result = stack.compose("up", "--detach", "--no-build", check=False, timeout=300)
        assert result.returncode != 0
        assert "DJANGO_SECRET_KEY" in result.stdout + result.stderr
        running = [c for c in stack.containers() if c["State"] == "running"]
        assert running == [], running
    finally:
        stack.compose("down", "--volumes", "--timeout", "5", check=False)


def test_down_with_volumes_leaves_nothing_behind(stack):
    """Last in this file (pytest keeps file order): takes the shared stack down."""
    label = f"label=com.docker.compose.project={stack.name}"
    assert podman("volume", "ls", "--quiet", "--filter", label).stdout.split()
    stack.compose("down", "--volumes", "--timeout", "10")
    assert podman("ps", "--all", "--quiet", "--filter", label).stdout.split() == []
    assert podman("volume", "ls", "--quiet", "--filter", label).stdout.split() == []
    networks = podman("network", "ls", "--format", "{{.Name}}").stdout.split()
    assert f"{stack.name}_default" not in networks
