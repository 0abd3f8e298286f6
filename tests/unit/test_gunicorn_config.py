"""gunicorn's access lines as the image writes them (weatherproject/gunicorn_config.py):
the same text gunicorn's own atoms would give the format, their fields as JSON, and the
key masked in every part a client writes."""

from __future__ import annotations

import datetime
import io
import json
import logging
from typing import Any

import pytest
from gunicorn.config import Config
from gunicorn.glogging import Logger

from weather.jsonlog import JsonFormatter
from weather.redaction import ApiKey

SECRET = "k3y-in-an-access-line-0123456789"


@pytest.fixture(autouse=True)
def gunicorn_config(monkeypatch, tmp_path):
    """The config module, imported with a metrics directory of the test's own: on import
    it names one for the process when none is set, which would put every later test's
    metrics into multiprocess mode."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    from weatherproject import gunicorn_config

    return gunicorn_config


ELAPSED = datetime.timedelta(seconds=1, microseconds=234_567)


class Response:
    status = "304 Not Modified"
    sent: int | None = 0
    headers = [("ETag", 'W/"abc"'), ("X-Request-ID", "8db966be84f8426f96c7eaf0865ca072")]


class Request:
    headers = [("HOST", "127.0.0.1:8000"), ("USER-AGENT", "wrk")]


def environ(**overrides: str) -> dict[str, Any]:
    return {
        "REMOTE_ADDR": "192.0.2.7",
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/api/weather?q=S%C3%A3o+Paulo&units=metric",
        "PATH_INFO": "/api/weather",
        "QUERY_STRING": "q=S%C3%A3o+Paulo&units=metric",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": "https://example.org/?q=100%",
        "HTTP_USER_AGENT": 'curl/8.5 "quoted"',
        **overrides,
    }


def logger(access_log_format: str | None = None) -> tuple[Any, io.StringIO]:
    """The image's access logger writing JSON lines into a buffer."""
    from weatherproject import gunicorn_config

    config = Config()
    config.set("accesslog", "-")
    config.set("access_log_format", access_log_format or gunicorn_config.access_log_format)
    access_logger = gunicorn_config.AccessLogger(config)
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(JsonFormatter())
    access_logger.access_log = logging.getLogger(f"test.access.{id(lines)}")
    access_logger.access_log.propagate = False
    access_logger.access_log.addHandler(handler)
    access_logger.access_log.setLevel(logging.INFO)
    return access_logger, lines


def logged(lines: io.StringIO) -> dict[str, Any]:
    (line,) = lines.getvalue().splitlines()
    entry: dict[str, Any] = json.loads(line)
    return entry


def gunicorn_s_own_line(access_logger: Any, env: dict[str, Any]) -> str:
    atoms = access_logger.atoms_wrapper_class(
        Logger.atoms(access_logger, Response(), Request(), env, ELAPSED)
    )
    line: str = access_logger.cfg.access_log_format % atoms
    return line


def test_the_line_is_the_one_gunicorn_s_atoms_make_of_the_format():
    access_logger, lines = logger()
    access_logger.access(Response(), Request(), environ(), ELAPSED)
    assert logged(lines)["message"] == gunicorn_s_own_line(access_logger, environ())


def test_absent_parts_are_dashes_as_gunicorn_writes_them():
    access_logger, lines = logger()
    bare = {k: v for k, v in environ().items() if k not in ("HTTP_REFERER", "HTTP_USER_AGENT")}

    class Unsent(Response):
        sent = None
        headers: list[tuple[str, str]] = []

    access_logger.access(Unsent(), Request(), bare, ELAPSED)
    message = logged(lines)["message"]
    assert message.endswith(' - 1234ms "-" "-" request_id=-')


def test_the_fields_ride_along_as_json():
    access_logger, lines = logger()
    access_logger.access(Response(), Request(), environ(), ELAPSED)
    entry = logged(lines)
    assert {k: entry[k] for k in ("request_id", "method", "path", "status", "remote_addr")} == {
        "request_id": "8db966be84f8426f96c7eaf0865ca072",
        "method": "GET",
        "path": "/api/weather",
        "status": 304,
        "remote_addr": "192.0.2.7",
    }
    assert entry["duration_ms"] == 1234.6


@pytest.mark.parametrize(
    "where",
    [
        {"RAW_URI": f"/api/weather?q={SECRET}", "PATH_INFO": f"/api/{SECRET}"},
        {"HTTP_REFERER": f"https://evil.example/?appid={SECRET}"},
        {"HTTP_USER_AGENT": f"agent {SECRET.upper()}"},
    ],
)
def test_the_key_is_masked_wherever_a_client_writes_it(where):
    ApiKey(SECRET)  # remembered: from now on masked wherever it is printed
    access_logger, lines = logger()
    access_logger.access(Response(), Request(), environ(**where), ELAPSED)
    assert SECRET.lower() not in lines.getvalue().lower()


def test_an_operator_s_own_format_is_rendered_by_gunicorn():
    access_logger, lines = logger("%(h)s %(m)s %({etag}o)s %(L)s")
    access_logger.access(Response(), Request(), environ(), ELAPSED)
    entry = logged(lines)
    assert entry["message"] == r"192.0.2.7 GET W/\"abc\" 1.234567"
    # Its fields ride along as with the image's own format.
    assert (entry["request_id"], entry["status"]) == ("8db966be84f8426f96c7eaf0865ca072", 304)


def test_the_record_names_the_access_logger_as_its_maker_without_a_stack_walk():
    access_logger, _ = logger()
    records: list[logging.LogRecord] = []

    def keep(record: logging.LogRecord) -> bool:
        records.append(record)
        return True

    access_logger.access_log.addFilter(keep)
    access_logger.access(Response(), Request(), environ(), ELAPSED)
    (record,) = records
    assert (record.funcName, record.pathname.endswith("gunicorn_config.py")) == ("access", True)
    assert record.levelno == logging.INFO


def test_an_access_logger_above_info_writes_no_line():
    access_logger, lines = logger()
    access_logger.access_log.setLevel(logging.WARNING)
    access_logger.access(Response(), Request(), environ(), ELAPSED)
    assert lines.getvalue() == ""
