"""JSON log lines: the fields, and the key masked everywhere a line can carry it."""

from __future__ import annotations

import io
import json
import logging
from datetime import datetime, timedelta

import pytest
import requests

from tests.unit.conftest import STUB_KEY, UPSTREAM
from weather.jsonlog import JsonFormatter
from weather.redaction import remember

SECRET = "owm-secret-for-json-0123456789"


@pytest.fixture
def emit():
    """Log through a handler with the production formatter; return the parsed line."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("weather.test.jsonlog")
    logger.addHandler(handler)
    logger.propagate = False
    remember(SECRET)

    def log(*args, level=logging.INFO, **kwargs) -> tuple[str, dict[str, object]]:
        stream.seek(0)
        stream.truncate()
        logger.log(level, *args, **kwargs)
        text = stream.getvalue()
        assert text.count("\n") == 1, "one line per record"
        return text, json.loads(text)

    yield log
    logger.removeHandler(handler)
    logger.propagate = True


def test_a_line_has_timestamp_level_logger_and_message(emit):
    _, line = emit("hello %s", "there", level=logging.WARNING)
    assert list(line)[:4] == ["timestamp", "level", "logger", "message"]
    assert line["level"] == "WARNING"
    assert line["logger"] == "weather.test.jsonlog"
    assert line["message"] == "hello there"
    assert datetime.fromisoformat(str(line["timestamp"])).utcoffset() == timedelta(0)


def test_the_key_is_masked_in_the_message_and_its_arguments(emit):
    text, line = emit("calling %s", f"{UPSTREAM}/data?appid={SECRET}&q=x")
    assert SECRET not in text
    assert line["message"] == f"calling {UPSTREAM}/data?appid=********&q=x"


def test_the_key_is_masked_in_extra_values_of_any_type(emit):
    class Holder:
        def __str__(self) -> str:
            return f"holder of {SECRET}"

    text, line = emit(
        "with extras",
        extra={
            "url": f"https://x/?appid={SECRET}",
            "nested": {"deep": [SECRET, 3]},
            "holder": Holder(),
            "count": 7,
        },
    )
    assert SECRET not in text
    assert line["nested"] == {"deep": ["********", 3]}
    assert line["holder"] == "holder of ********"
    assert line["count"] == 7


def test_the_key_is_masked_in_exception_text(emit):
    try:
        raise requests.ConnectionError(f"failed GET {UPSTREAM}/x?appid={SECRET}")
    except requests.ConnectionError:
        text, line = emit("the call failed", level=logging.ERROR, exc_info=True)
    assert SECRET not in text
    assert "ConnectionError" in str(line["exc_info"])


@pytest.mark.django_db
def test_a_whole_request_s_json_lines_hold_no_key(client, stubbed_services, capfd):
    stubbed_services.get(
        f"{UPSTREAM}/data/2.5/weather",
        status_code=500,
        json={"cod": 500, "message": f"bad request appid={STUB_KEY}"},
    )
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logging.getLogger().addHandler(handler)
    try:
        client.get("/api/weather", {"q": "London"})
    finally:
        logging.getLogger().removeHandler(handler)
    text = stream.getvalue()
    assert "upstream call weather: error (status 500" in text
    assert STUB_KEY not in text


def test_fields_come_in_the_documented_order(emit):
    """timestamp, level, logger, message, the request's ID, the extras, then exc_info."""
    try:
        raise ValueError("boom")
    except ValueError:
        _, line = emit(
            "failed", level=logging.ERROR, exc_info=True, extra={"request_id": "r-12345678", "n": 1}
        )
    assert list(line) == ["timestamp", "level", "logger", "message", "request_id", "n", "exc_info"]


def test_a_line_outside_a_request_has_no_request_id(emit):
    _, line = emit("between requests", extra={"request_id": "-"})
    assert "request_id" not in line


def test_a_value_orjson_cannot_write_still_makes_a_line(emit):
    _, line = emit("big", extra={"big": 2**70})  # beyond 64 bits: the standard encoder's
    assert line["big"] == 2**70


def test_an_extra_cannot_replace_the_line_s_own_fields_and_private_ones_stay_out(emit):
    _, line = emit("hello", extra={"timestamp": "forged", "level": "forged", "_private": 1})
    assert line["timestamp"] != "forged"
    assert line["level"] == "INFO"
    assert "_private" not in line
