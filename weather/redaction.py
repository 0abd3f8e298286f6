"""Keeping the API key out of everything the app prints: logs, error pages, reprs.

The key is held as an ``ApiKey``, which masks itself wherever it is printed and gives
its value only to ``reveal()`` (called where the upstream request is built). Because
that value then travels inside a URL, every value an ``ApiKey`` was made from is also
remembered here, and masked wherever it appears:

- in every log record, whichever logger made it and whichever handler (gunicorn's,
  pytest's, ours) receives it: a log record factory formats each record once and
  masks the result, ``appid=`` values included;
- on Django's error pages, the DEBUG page included, where frame variables would
  otherwise show the request's parameters (``sensitive_variables`` only acts with
  DEBUG off): ``MaskingExceptionReporter`` masks the rendered page.
"""

from __future__ import annotations

import hmac
import logging
import re
import threading
from collections import deque
from typing import Any, NoReturn
from urllib.parse import quote, quote_plus

from django.utils.safestring import SafeString, mark_safe
from django.views.debug import ExceptionReporter

from weather.caching import NO_SETTING, PROCESS_CACHES

MASK = "********"
# Values this short could be ordinary words; a real key is 32 characters.
_MIN_SECRET_LENGTH = 8
_APPID = re.compile(r"(appid=)[^&\s'\"]+", re.IGNORECASE)

_lock = threading.Lock()
# The current key and a few it rotated from. Only clear_all() forgets them: a changed
# setting does not make a key that was read any less secret.
_secrets: deque[str] = PROCESS_CACHES.register(
    deque(maxlen=8), name="redaction.secrets", cleared_by=NO_SETTING
)


class ApiKey:
    """A secret that does not print itself: ``repr``, ``str`` and ``format`` show a mask."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        remember(value)

    def reveal(self) -> str:
        """The value itself, for the one place that sends it."""
        return self._value

    def __repr__(self) -> str:
        return f"ApiKey({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ApiKey) and hmac.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> NoReturn:
        raise TypeError("An ApiKey is not pickled: it would leave the process in clear")


def remember(value: str) -> None:
    """Mask ``value`` wherever it is printed from now on."""
    if len(value) < _MIN_SECRET_LENGTH:
        return
    with _lock:
        if value not in _secrets:
            _secrets.append(value)


def mask(text: str) -> str:
    """``text`` with every remembered secret (plain or URL-quoted) and ``appid=`` masked."""
    with _lock:
        secrets = list(_secrets)
    for secret in secrets:
        for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
            text = text.replace(form, MASK)
    return _APPID.sub(r"\1" + MASK, text)


class MaskingExceptionReporter(ExceptionReporter):
    """Django's error reports (the DEBUG page, admin e-mails) with every secret masked."""

    def get_traceback_html(self) -> SafeString:
        # Masking only removes text from a page Django has already escaped.
        return mark_safe(mask(super().get_traceback_html()))  # noqa: S308

    def get_traceback_text(self) -> SafeString:
        return mark_safe(mask(super().get_traceback_text()))  # noqa: S308


def install_log_masking() -> None:
    """Mask secrets in every log record from now on (once per process)."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
    make_record = logging.getLogRecordFactory()

    def masked_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return record  # a malformed record: logging reports it as it would have
        record.msg, record.args = mask(message), None
        if record.exc_info and not record.exc_text:
            # Handlers reuse exc_text when it is set, so the traceback is masked too.
            record.exc_text = mask(_TRACEBACK_FORMATTER.formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(masked_record)


_installed = False
_TRACEBACK_FORMATTER = logging.Formatter()
