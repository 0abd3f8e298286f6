"""The app as the image serves it (gunicorn with weatherproject/gunicorn_config.py, several
workers, JSON logs), for the real Prometheus and nginx that `make observability-check` runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.appserver import AppServer

GUNICORN_CONFIG = ("--config=python:weatherproject.gunicorn_config", "--access-logfile=-")
WORKERS = 3


@pytest.fixture
def metrics_dir(tmp_path: Path) -> Path:
    path = tmp_path / "metrics"
    path.mkdir()
    # Left by "an earlier run": gunicorn's start must delete it, or it would add up.
    (path / "counter_99999.db").write_bytes(b"\0" * 8)
    return path


@pytest.fixture
def observed_app(server_env, metrics_dir) -> Iterator[AppServer]:
    """gunicorn with the image's config, three workers, and a small share per client."""
    env = {
        **server_env,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "WEATHER_LOG_FORMAT": "json",
        # A small share per client, so one greedy client is refused (each test client
        # comes from its own loopback address); the site's caps stay out of reach.
        "WEATHER_CLIENT_BUDGET_PER_MINUTE": "9",  # three cold places: weather, forecast, air
        "WEATHER_CLIENT_BUDGET_PER_DAY": "100",
        "WEATHER_BUDGET_PER_MINUTE": "500",
        "WEATHER_BUDGET_PER_DAY": "5000",
        # nginx (test_nginx.py) is on loopback: its X-Request-ID is believed.
        "WEATHER_TRUSTED_PROXIES": "127.0.0.1",
    }
    with AppServer(env=env, workers=WORKERS, extra_args=GUNICORN_CONFIG) as server:
        yield server
