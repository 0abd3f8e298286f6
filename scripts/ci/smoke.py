"""Smoke-test a running dashboard over HTTP: what an orchestrator and a first user see.

    python3 scripts/ci/smoke.py http://127.0.0.1:8000 [--fake-upstream URL] [--wait 60]

1. /healthz answers 200 (waiting up to --wait seconds for the server to come up);
2. /readyz answers 200 ({"status": "ok"}: the database and Vault checks passed);
3. one API lookup answers 200 with current weather and a 5-day forecast;
4. the page for that place renders, and its stylesheet is served under a hashed name
   (collectstatic ran at build time and whitenoise serves the manifest);
5. with --fake-upstream: the fake upstream counted those calls and refused none, so
   the key the app read from Vault is the one the upstream accepts;
6. OPENWEATHER_API_KEY, if this process has it, appears in no response.

Used by GitLab's integration job (inside the image) and by .ci/run against the podman
container, so both check the same things. Standard library only: it runs with the
image's python3 as well as the host's.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

PLACE = "London"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class SmokeFailure(AssertionError):
    pass


def fetch(url: str, *, timeout: float = 10) -> Reply:
    """GET a URL; HTTP errors are answers too, only transport failures raise."""
    request = urllib.request.Request(url, headers={"Accept": "application/json, text/html"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return Reply(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as exc:
        return Reply(exc.code, dict(exc.headers), exc.read())


def wait_for_health(base: str, wait: float) -> Reply:
    deadline = time.monotonic() + wait
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            reply = fetch(f"{base}/healthz", timeout=3)
            if reply.status == 200:
                return reply
            last = SmokeFailure(f"/healthz answered {reply.status}")
        except OSError as exc:  # URLError is an OSError: not listening yet
            last = exc
        time.sleep(0.5)
    raise SmokeFailure(f"/healthz did not answer 200 within {wait:.0f} s: {last}")


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise SmokeFailure(message)


def run(base: str, *, fake_upstream: str | None, wait: float) -> list[str]:
    """Run every check; return what passed. Raises SmokeFailure at the first failure."""
    passed: list[str] = []
    secret = os.environ.get("OPENWEATHER_API_KEY", "").encode()
    replies: list[Reply] = []

    health = wait_for_health(base, wait)
    replies.append(health)
    expect(health.json() == {"status": "ok"}, f"/healthz body: {health.body[:200]!r}")
    passed.append("/healthz 200")

    ready = fetch(f"{base}/readyz")
    replies.append(ready)
    # The public body says only ready or not; the app logs which check failed.
    expect(ready.status == 200, f"/readyz answered {ready.status}: {ready.body[:300]!r}")
    expect(ready.json().get("status") == "ok", f"/readyz body: {ready.body[:300]!r}")
    passed.append("/readyz 200 (database and Vault)")

    api = fetch(f"{base}/api/weather?q={PLACE}&units=metric")
    replies.append(api)
    expect(api.status == 200, f"API lookup answered {api.status}: {api.body[:300]!r}")
    body = api.json()
    expect(body["place"]["name"] == PLACE, f"API lookup found {body['place']}")
    expect(isinstance(body["current"]["temp"], (int, float)), "API lookup has no temperature")
    expect(len(body["forecast"]["steps"]) == 40, "API lookup has no 5-day forecast")
    passed.append(f"API lookup 200 ({PLACE}: {body['current']['temp']} °C)")

    page = fetch(f"{base}/?q={PLACE}")
    replies.append(page)
    expect(page.status == 200, f"page answered {page.status}")
    html = page.body.decode()
    expect(PLACE in html, "page does not name the place")
    css = re.search(r'href="(/static/[^"]+\.css)"', html)
    if css is None:
        raise SmokeFailure("page links no stylesheet")
    css_path = css.group(1)
    expect(
        re.search(r"\.[0-9a-f]{12}\.css$", css_path) is not None,
        f"stylesheet {css_path} is not a hashed (collected) name",
    )
    sheet = fetch(f"{base}{css_path}")
    expect(
        sheet.status == 200 and sheet.headers.get("Content-Type", "").startswith("text/css"),
        f"stylesheet {css_path} answered {sheet.status}",
    )
    passed.append(f"page 200, stylesheet {css_path} served")

    if fake_upstream:
        calls = fetch(f"{fake_upstream}/__fake__/calls").json()
        expect(calls.get("weather", 0) >= 1, f"the fake upstream saw no weather call: {calls}")
        expect(calls.get("unauthorized") == 0, f"the fake upstream refused the key: {calls}")
        passed.append(f"fake upstream called with the right key: {calls}")

    if secret:
        leaks = [reply for reply in replies if secret in reply.body]
        expect(not leaks, "OPENWEATHER_API_KEY appears in a response body")
        passed.append("the key is in no response")
    return passed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url", help="where the app listens, e.g. http://127.0.0.1:8000")
    parser.add_argument("--fake-upstream", help="the fake OpenWeather's URL, to check its counters")
    parser.add_argument("--wait", type=float, default=60, help="seconds to wait for /healthz")
    args = parser.parse_args(argv)
    base = args.base_url.rstrip("/")
    try:
        passed = run(base, fake_upstream=args.fake_upstream, wait=args.wait)
    except (SmokeFailure, OSError, ValueError, KeyError, TypeError) as exc:
        print(f"smoke: FAILED against {base}: {exc}", file=sys.stderr)
        return 1
    for line in passed:
        print(f"smoke: ok  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
