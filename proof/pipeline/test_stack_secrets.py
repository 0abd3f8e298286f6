"""docker/stack-secrets.sh, compose's one-shot `stack-secrets`: generated once and
kept, given ones copied in, required ones demanded, each readable where it lands."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from proof.pipeline.support import ROOT

SCRIPT = ROOT / "docker" / "stack-secrets.sh"
FILES = {
    "django/django-secret-key": "DJANGO_SECRET_KEY",
    "db/postgres-password": "POSTGRES_PASSWORD",
    "vault/vault-root-token": "VAULT_DEV_ROOT_TOKEN",
}


def stack_secrets(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    volumes = tmp_path / "volumes"
    for sub in ("django", "db", "vault"):
        (volumes / sub).mkdir(parents=True, exist_ok=True)
    given = tmp_path / "given"
    given.mkdir(exist_ok=True)
    return subprocess.run(
        ["sh", SCRIPT],
        env={"PATH": os.environ["PATH"], "SECRETS_DIR": str(volumes), "GIVEN_DIR": str(given)}
        | env,
        capture_output=True,
        text=True,
        timeout=30,
    )


def read_all(tmp_path: Path) -> dict[str, str]:
    return {name: (tmp_path / "volumes" / name).read_text() for name in FILES}


def test_nothing_given_generates_each_secret_once_and_keeps_it(tmp_path):
    first = stack_secrets(tmp_path)
    assert first.returncode == 0, first.stderr
    secrets = read_all(tmp_path)
    assert len(set(secrets.values())) == 3
    assert all(len(value) >= 40 for value in secrets.values())
    for name in FILES:
        mode = stat.S_IMODE((tmp_path / "volumes" / name).stat().st_mode)
        assert mode == 0o444, (name, oct(mode))
    again = stack_secrets(tmp_path)
    assert again.returncode == 0, again.stderr
    assert read_all(tmp_path) == secrets  # a second `up` finds the same ones
    assert "kept from an earlier run" in again.stdout


def test_a_given_secret_is_copied_in_and_wins_over_a_generated_one(tmp_path):
    assert stack_secrets(tmp_path).returncode == 0
    (tmp_path / "given" / "postgres-password").write_text("chosen-by-the-operator")
    result = stack_secrets(tmp_path)
    assert result.returncode == 0, result.stderr
    assert read_all(tmp_path)["db/postgres-password"] == "chosen-by-the-operator"
    assert "chosen-by-the-operator" not in result.stdout + result.stderr


@pytest.mark.parametrize("missing", list(FILES))
def test_production_demands_every_secret(tmp_path, missing):
    given = tmp_path / "given"
    given.mkdir()
    for name in FILES:
        if name != missing:
            (given / Path(name).name).write_text("given-" + Path(name).name)
    result = stack_secrets(tmp_path, REQUIRE_GIVEN="1")
    assert result.returncode != 0
    assert f"{FILES[missing]} is required" in result.stderr
