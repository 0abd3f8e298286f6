"""One request followed from nginx through the app to the upstream by its ID: the stack's
own nginx config (docker/nginx/weather.conf) in front of gunicorn with JSON logs."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
import requests

from tests.support.appserver import AppServer
from tests.support.nginx import StackProxy
from tests.support.processes import wait_until

pytestmark = pytest.mark.integration

NGINX_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def proxy(observed_app) -> Iterator[StackProxy]:
    with StackProxy(f"127.0.0.1:{observed_app.port}") as stack_proxy:
        yield stack_proxy


def lines_with(app: AppServer, request_id: str) -> list[dict[str, object]]:
    found = []
    for line in app.log_text().splitlines():
        if request_id in line and line.startswith("{"):
            found.append(json.loads(line))
    return found


def test_nginx_s_id_is_on_the_response_and_every_app_line_of_the_request(proxy, observed_app):
    response = requests.get(
        f"{proxy.base_url}/api/weather",
        params={"q": "London"},
        # A client's own ID is replaced: only the proxy names requests.
        headers={"X-Request-ID": "chosen-by-the-client-0001"},
        timeout=30,
    )
    assert response.status_code == 200
    request_id = response.headers["X-Request-ID"]
    assert NGINX_ID.fullmatch(request_id)

    def access_line_written() -> list[dict[str, object]]:
        lines = lines_with(observed_app, request_id)
        return lines if any(line["logger"] == "gunicorn.access" for line in lines) else []

    lines = wait_until(access_line_written, what="the access line", timeout=10)
    assert {line["request_id"] for line in lines} == {request_id}
    upstream = [line for line in lines if line["logger"] == "weather.clients.openweather"]
    # Weather, forecast and air are asked for at the same time: their lines come in any order.
    calls = sorted((str(line["endpoint"]), line["outcome"], line["status"]) for line in upstream)
    assert calls == [
        ("air_pollution", "ok", 200),
        ("forecast", "ok", 200),
        ("geocode", "ok", 200),
        ("weather", "ok", 200),
    ]
    assert all(isinstance(line["duration_ms"], float) for line in upstream)
    (access,) = [line for line in lines if line["logger"] == "gunicorn.access"]
    assert access["path"] == "/api/weather"
    assert access["status"] == 200
    assert "chosen-by-the-client" not in observed_app.log_text()


def test_metrics_are_not_served_through_nginx(proxy, observed_app):
    assert observed_app.get("/metrics").status_code == 200
    through_proxy = requests.get(f"{proxy.base_url}/metrics", timeout=10)
    assert through_proxy.status_code == 404
    assert "weather_" not in through_proxy.text
