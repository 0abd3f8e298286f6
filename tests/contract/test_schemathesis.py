"""The API, served as in production, against its OpenAPI document: schemathesis generates
requests from what weather/openapi.json allows (and what it does not), and checks every
answer: never a 500, every status, content type and required header documented, every
body conforming, invalid input refused, methods the document does not list refused with
405 and an Allow header.

The app runs under gunicorn on a fresh database, with a real OpenBao and the fake
OpenWeather on loopback; the number of examples is bounded (``MAX_EXAMPLES`` per
operation and phase) and the seed fixed, so a run takes about a minute and a failure
can be replayed.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import pytest

from tests.support.appserver import AppServer

pytestmark = pytest.mark.integration

CONFIG = Path(__file__).with_name("schemathesis.toml")
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
MAX_EXAMPLES = 150
SEED = 20261205


@pytest.fixture
def served_app(server_env) -> Iterator[AppServer]:
    with AppServer(env=server_env, workers=2) as server:
        yield server


def test_the_api_keeps_its_documented_contract(served_app, tmp_path):
    done = subprocess.run(
        [
            str(SCHEMATHESIS),
            "--config-file", str(CONFIG),
            "run", f"{served_app.base_url}/api/openapi.json",
            "--max-examples", str(MAX_EXAMPLES),
            "--seed", str(SEED),
            "--generation-database", "none",
            "--report", "junit", "--report-dir", str(tmp_path),
        ],
        cwd=tmp_path,  # where it keeps its own cache, out of the checkout
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    print(done.stdout[-20000:], done.stderr[-5000:])
    assert done.returncode == 0, "schemathesis found answers that break the document (above)"
    (report,) = tmp_path.glob("junit-*.xml")
    # schemathesis wrote it, a moment ago, here: not untrusted XML.
    cases = ElementTree.parse(report).iter("testcase")  # noqa: S314
    tested = {case.get("name") for case in cases}
    assert tested == {"GET /api/weather", "GET /api/places"}
