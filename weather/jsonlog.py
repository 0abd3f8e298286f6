"""One JSON object per log line, for production: ``JsonFormatter``.

Each line has ``timestamp`` (UTC, ISO 8601), ``level``, ``logger``, ``message`` and,
inside a request, ``request_id`` (``weather/request_id.py``), then whatever the call
passed in ``extra`` (an upstream call's ``endpoint``, ``outcome``, ``status``,
``duration_ms``) and, for an error, ``exc_info``. python-json-logger does the
formatting as a stdlib ``logging.Formatter``, so Django's, gunicorn's and the app's
records all go through it unchanged; orjson writes the JSON (a tenth of the standard
encoder's time, on every access line), compactly: no space after ``:`` or ``,``.

The record factory of ``weather/redaction.py`` masks each message and traceback as the
record is made, but not what ``extra`` adds to a record afterwards: every value of a
line (and every key of a dict in it) is masked here, before it is serialised. Not the
serialised line: masking ``appid=...`` there could eat an escaping backslash and break
the JSON. The line's own field names are not: they are attribute names of the record,
which logging takes from the code (``extra`` must not even reuse one), never from data;
masking them was half the masking of every line.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

from weather.redaction import mask
from weather.request_id import NO_REQUEST

FIELDS = ("levelname", "name", "message")
# The line's own fields, first on every line; add_fields names them.
OWN_FIELDS = ("timestamp", "level", "logger", "message")


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
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__(*args, **kwargs)
        # Lines orjson cannot write (rare) get the standard encoder, one for every line.
        encoder: Callable[..., json.JSONEncoder] = self.json_encoder or json.JSONEncoder
        self._encoder = encoder(
            default=self.json_default,
            indent=self.json_indent,
            ensure_ascii=self.json_ensure_ascii,
            separators=(",", ":"),  # as compact as orjson's lines
        )
        # The line's own fields are not taken from a record's other attributes, as the
        # library's add_fields did not either (it set them last); nor are private ones.
        self._not_extras = frozenset({*self._skip_fields, "request_id", *OWN_FIELDS})

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        """The line's fields in their order, each value masked as it is added: the
        library's own add_fields ran through every option this formatter does not use
        (defaults, static fields, renames), and the values were then copied to mask them."""
        log_data["timestamp"] = datetime.fromtimestamp(record.created, tz=UTC)
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        log_data["message"] = mask(record.message)
        request_id = record.__dict__.get("request_id")
        if request_id is not None and request_id != NO_REQUEST:
            log_data["request_id"] = _masked(request_id)
        not_extras = self._not_extras
        for key, value in record.__dict__.items():
            if key not in not_extras and not key.startswith("_"):
                log_data[key] = _masked(value)
        for key, value in message_dict.items():  # exc_info, stack_info
            log_data[key] = _masked(value)

    def jsonify_log_record(self, log_data: dict[str, Any]) -> str:
        try:
            return orjson.dumps(log_data, default=str).decode()
        except orjson.JSONEncodeError:  # an int beyond 64 bits, say: the standard encoder's
            return self._encoder.encode(log_data)
