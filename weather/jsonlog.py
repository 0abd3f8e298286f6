"""One JSON object per log line, for production: ``JsonFormatter``.

Each line has ``timestamp`` (UTC, ISO 8601), ``level``, ``logger``, ``message`` and,
inside a request, ``request_id`` (``weather/request_id.py``), then whatever the call
passed in ``extra`` (an upstream call's ``endpoint``, ``outcome``, ``status``,
``duration_ms``) and, for an error, ``exc_info``. python-json-logger does the
formatting as a stdlib ``logging.Formatter``, so Django's, gunicorn's and the app's
records all go through it unchanged.

The record factory of ``weather/redaction.py`` masks each message and traceback as the
record is made, but not what ``extra`` adds to a record afterwards: every value of a
line (and every key of a dict in it) is masked here, before it is serialised. Not the
serialised line: masking ``appid=...`` there could eat an escaping backslash and break
the JSON. The line's own field names are not: they are attribute names of the record,
which logging takes from the code (``extra`` must not even reuse one), never from data;
masking them was half the masking of every line.
"""

from __future__ import annotations

from typing import Any

from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

from weather.redaction import mask
from weather.request_id import NO_REQUEST

FIELDS = ("levelname", "name", "message")
RENAMED = {"levelname": "level", "name": "logger"}


def _masked(value: Any) -> Any:
    if type(value) is str:  # most values of most lines: straight to the mask
        return mask(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, dict):
        return {mask(str(key)): _masked(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_masked(item) for item in value]
    return mask(value if isinstance(value, str) else str(value))


class JsonFormatter(_BaseJsonFormatter):
    """``timestamp``, ``level``, ``logger``, ``message``, ``request_id`` and the extras, masked."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", list(FIELDS))
        kwargs.setdefault("rename_fields", RENAMED)
        kwargs.setdefault("timestamp", True)
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__(*args, **kwargs)

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        if log_data.get("request_id") in (None, NO_REQUEST):
            log_data.pop("request_id", None)
        # The timestamp (a datetime here) first; the rest may be anything a caller passed.
        timestamp = log_data.pop("timestamp", None)
        masked = {key: _masked(value) for key, value in log_data.items()}
        return {"timestamp": timestamp, **masked}
