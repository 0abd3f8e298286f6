"""The project's own settings, plus a floor view to measure against (bench/urls.py)."""

from weatherproject.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
