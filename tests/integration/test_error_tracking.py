"""Error tracking: with SENTRY_DSN set, an error is reported to Sentry, and the key is
in nothing sent: not in the exception's message, a frame's variables or the log line.
A loopback stand-in for Sentry's ingest receives what the real SDK sends."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.fakes.sentry import FakeSentry
from tests.support.appserver import ROOT, base_env

pytestmark = pytest.mark.integration

KEY = "0123456789abcdef0123456789abcdef"  # shaped like an OpenWeather key
# A process as the app runs: settings from the environment, then an error whose message
# and frame hold the key, as a failing upstream call would.
SCRIPT = """
import logging, os, sys
import django
django.setup()
if sys.argv[1] == "unmasked":
    import sentry_sdk
    sentry_sdk.init(dsn=os.environ["SENTRY_DSN"])  # Sentry's defaults, for comparison
from weather.redaction import ApiKey

key = ApiKey(os.environ["TEST_KEY"])

def fetch():
    url = "https://api.openweathermap.org/data/2.5/weather?lat=1&appid=" + key.reveal()
    raise RuntimeError("could not fetch " + url)

try:
    fetch()
except RuntimeError:
    logging.getLogger("weather.clients.openweather").exception("the upstream call failed")
import sentry_sdk
sentry_sdk.flush(timeout=10)
"""


def report(mode: str, sentry: FakeSentry, **env: str) -> None:
    subprocess.run(
        [sys.executable, "-c", SCRIPT, mode],
        cwd=ROOT,
        env=base_env(TEST_KEY=KEY, **env),
        check=True,
        capture_output=True,
        timeout=60,
    )


def test_an_error_reaches_sentry_with_the_key_masked():
    with FakeSentry() as sentry:
        report("app", sentry, SENTRY_DSN=sentry.dsn, SENTRY_ENVIRONMENT="test")
    assert sentry.envelopes, "nothing was sent"
    assert "could not fetch" in sentry.text
    assert '"environment":"test"' in sentry.text.replace(" ", "")
    assert KEY not in sentry.text
    assert "appid=********" in sentry.text


def test_sentry_s_own_scrubber_would_have_sent_it():
    # What before_send is for: with the SDK's defaults the key leaves the process.
    with FakeSentry() as sentry:
        report("unmasked", sentry, SENTRY_DSN=sentry.dsn)
    assert KEY in sentry.text


def test_without_a_dsn_nothing_is_sent():
    with FakeSentry() as sentry:
        report("app", sentry)
    assert sentry.envelopes == []
