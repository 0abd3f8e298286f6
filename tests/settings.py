"""Settings for the test run: the project's own, with a throwaway secret key.

The suite exercises the production configuration (DEBUG off), which refuses to
start without DJANGO_SECRET_KEY; a fixed test-only key is set here for that.
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "insecure-test-only-key-" + "x" * 40)
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")

from weatherproject.settings import *  # noqa: F403

# Hashing passwords slowly buys nothing in tests.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests need no collectstatic run; the manifest storage would demand one.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Tests read hit counts right after the request that made them.
WEATHER_HIT_FLUSH_SECONDS = 0
# Tests change the database between requests and expect the next request to see it.
WEATHER_MEMO_SECONDS = 0
