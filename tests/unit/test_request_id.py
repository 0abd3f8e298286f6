"""Request IDs: taken only from a trusted proxy and only when well-formed, returned on
every response, and on every log line a request makes (the JSON lines production writes)."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest
from django.conf import settings as django_settings

from weather.jsonlog import JsonFormatter
from weather.request_id import NO_REQUEST, RequestIdFilter, current

pytestmark = pytest.mark.django_db

API = "/api/weather"
PROXY = "10.0.0.2"
STRANGER = "203.0.113.50"
GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def behind_proxy(settings):
    settings.WEATHER_TRUSTED_PROXIES = [PROXY]
    return settings


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """What the production handler writes (its formatter and filter), captured."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


def lines_of(stream: io.StringIO) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    stream.seek(0)
    stream.truncate()
    return lines


def test_production_logs_json_through_the_request_id_filter():
    handler = django_settings.LOGGING["handlers"]["console"]  # type: ignore[index]
    assert handler["formatter"] == "json"
    assert handler["filters"] == ["request_id"]


def test_every_response_carries_a_generated_id(client, stubbed_services):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/no-such-page")["X-Request-ID"]
    assert GENERATED.fullmatch(first)
    assert GENERATED.fullmatch(second)
    assert first != second


def test_a_trusted_proxy_s_well_formed_id_is_kept(client, behind_proxy):
    response = client.get("/healthz", REMOTE_ADDR=PROXY, HTTP_X_REQUEST_ID="0f3c9a7e5b1d4c2a")
    assert response["X-Request-ID"] == "0f3c9a7e5b1d4c2a"


def test_a_stranger_cannot_choose_the_id(client, behind_proxy):
    response = client.get("/healthz", REMOTE_ADDR=STRANGER, HTTP_X_REQUEST_ID="0f3c9a7e5b1d4c2a")
    assert GENERATED.fullmatch(response["X-Request-ID"])


@pytest.mark.parametrize(
    "given",
    ["short", "x" * 129, "abc def ghi", "abcdefgh\nforged line", '{"level":"ERROR"}', "-leading"],
)
def test_an_ill_formed_id_from_a_trusted_proxy_is_replaced(client, behind_proxy, given):
    response = client.get("/healthz", REMOTE_ADDR=PROXY, HTTP_X_REQUEST_ID=given)
    assert GENERATED.fullmatch(response["X-Request-ID"])


@pytest.mark.parametrize(
    ("peer", "sent", "kept"),
    [
        (PROXY, "req-from-nginx-0001", True),
        (PROXY, None, False),
        (STRANGER, "req-from-stranger-01", False),
        (STRANGER, None, False),
    ],
    ids=["proxy-with-id", "proxy-without-id", "stranger-with-id", "stranger-without-id"],
)
def test_every_log_line_of_a_request_carries_its_id(
    client, stubbed_services, behind_proxy, json_lines, peer, sent, kept
):
    headers = {"HTTP_X_REQUEST_ID": sent} if sent else {}
    response = client.get(API, {"q": "London"}, REMOTE_ADDR=peer, **headers)
    assert response.status_code == 200
    request_id = response["X-Request-ID"]
    assert (request_id == sent) is kept
    lines = lines_of(json_lines)
    assert {line.get("request_id") for line in lines} == {request_id}
    upstream = [line for line in lines if line["logger"] == "weather.clients.openweather"]
    # Weather and forecast are asked for at the same time: their lines come in either order.
    assert sorted(str(line["endpoint"]) for line in upstream) == [
        "air_pollution",
        "forecast",
        "geocode",
        "weather",
    ]
    for line in upstream:
        assert line["outcome"] == "ok"
        assert line["status"] == 200
        assert isinstance(line["duration_ms"], float)
        assert line["level"] == "INFO"
    for line in lines:
        assert {"timestamp", "level", "logger", "message"} <= line.keys()


def test_the_line_django_writes_after_the_middleware_carries_the_id_too(
    client, stubbed_services, json_lines
):
    # django.request logs a 4xx/5xx answer after the whole middleware chain has returned.
    response = client.get(API, {"q": "Nowhere at all"})
    assert response.status_code == 404
    lines = lines_of(json_lines)
    assert any(line["logger"] == "django.request" for line in lines)
    assert {line.get("request_id") for line in lines} == {response["X-Request-ID"]}


def test_outside_a_request_lines_have_no_request_id(client, json_lines):
    client.get("/healthz")
    assert current() == NO_REQUEST
    logging.getLogger("weather.test").warning("between requests")
    (line,) = lines_of(json_lines)
    assert "request_id" not in line
