"""Answers a worker keeps and serves again (weather/response_cache.py), under gunicorn with
the image's configuration: each view still has its access line, its own request ID, its
metrics and its hit count."""

from __future__ import annotations

import json

import pytest

from tests.support.appserver import AppServer, manage
from tests.support.metrics import parse, total, value

pytestmark = pytest.mark.django_db(transaction=True)

IMAGE_FLAGS = ("--config=python:weatherproject.gunicorn_config", "--access-logfile=-")
VIEWS = 20
HIT_COUNT = (
    "from weather.models import WeatherLookup; "
    "print(sum(WeatherLookup.objects.values_list('hit_count', flat=True)))"
)


def test_every_view_of_a_kept_answer_is_logged_counted_and_identified(server_env):
    env = {**server_env, "WEATHER_MEMO_SECONDS": "60", "WEATHER_HIT_FLUSH_SECONDS": "0"}
    with AppServer(env=env, workers=1, extra_args=IMAGE_FLAGS) as server:
        first = server.get("/api/weather", q="Zürich")
        assert first.json()["source"] == "upstream"
        answers = [server.get("/api/weather", q="Zürich") for _ in range(VIEWS)]
        samples = parse(server.get("/metrics").text)
        log = server.log_text()

    assert {answer.content for answer in answers[1:]} == {answers[0].content}
    ids = [answer.headers["X-Request-ID"] for answer in answers]
    assert len(set(ids)) == VIEWS
    access = [
        json.loads(line)
        for line in log.splitlines()
        if line.startswith("{") and '"gunicorn.access"' in line and "/api/weather" in line
    ]
    assert len(access) == VIEWS + 1
    assert set(ids) <= {line["request_id"] for line in access}
    assert value(samples, "weather_reports_total", {"source": "cache"}) == VIEWS
    assert total(samples, "weather_http_requests_total", view="weather:api-weather") == VIEWS + 1
    assert int(manage("shell", "-c", HIT_COUNT, env=env).split()[-1]) == VIEWS
