"""Production settings: refuse to start without a secret key, pass check --deploy, hash statics."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "weatherproject.settings",
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "a-production-like-secret-key-" + "q7" * 30,
    "DJANGO_ALLOWED_HOSTS": "weather.example.com",
}

SETTINGS = "from django.conf import settings"


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION.items() if k != "DJANGO_SECRET_KEY"}
    result = manage("check", **env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY (or DJANGO_SECRET_KEY_FILE) is required" in result.stderr


def test_the_secret_key_may_come_from_a_file(tmp_path):
    key_file = tmp_path / "secret-key"
    key_file.write_text(PRODUCTION["DJANGO_SECRET_KEY"] + "\n")
    env = {k: v for k, v in PRODUCTION.items() if k != "DJANGO_SECRET_KEY"}
    result = manage(
        "shell", "-c", f"{SETTINGS}; print(len(settings.SECRET_KEY))",
        **env, DJANGO_SECRET_KEY_FILE=str(key_file),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == str(len(PRODUCTION["DJANGO_SECRET_KEY"]))


def test_an_unreadable_secret_file_is_a_clear_configuration_error(tmp_path):
    missing = tmp_path / "nowhere"
    result = manage("check", **PRODUCTION, DATABASE_PASSWORD_FILE=str(missing))
    assert result.returncode != 0
    assert f"DATABASE_PASSWORD_FILE: cannot read '{missing}'" in result.stderr


def test_the_database_password_may_come_from_a_file(tmp_path):
    password_file = tmp_path / "db-password"
    password_file.write_text("s3cret from a file\n")
    result = manage(
        "shell", "-c", f"{SETTINGS}; print(settings.DATABASES['default']['PASSWORD'])",
        **PRODUCTION, DATABASE_URL="postgres://weather@db:5432/weather",
        DATABASE_PASSWORD_FILE=str(password_file),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "s3cret from a file"


def test_development_starts_without_a_secret_key():
    result = manage("check", DJANGO_DEBUG="1")
    assert result.returncode == 0, result.stderr


def test_check_deploy_reports_no_issues_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_an_invalid_boolean_is_a_clear_configuration_error():
    result = manage("check", **{**PRODUCTION, "DJANGO_DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be a boolean" in result.stderr


@pytest.mark.timeout(120)
def test_collectstatic_writes_hashed_and_compressed_files(tmp_path):
    result = manage("collectstatic", "--no-input", **PRODUCTION, DJANGO_STATIC_ROOT=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "staticfiles.json").exists()
    hashed = list((tmp_path / "weather").glob("dashboard.*.css"))
    assert hashed
    assert Path(f"{hashed[0]}.gz").exists()
