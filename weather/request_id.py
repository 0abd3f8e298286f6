"""Each request's ID: taken from a trusted proxy or made here, and carried by every log line.

nginx (``docker/nginx/weather.conf``) and ingress controllers make an ID per request
and send it in ``X-Request-ID``; the app keeps it only when the peer is one of
``WEATHER_TRUSTED_PROXIES`` and it looks like an ID (letters, digits, ``.``, ``_``,
``-``, ``:``; 8 to 128 of them), so a client can neither choose the ID its lines are
filed under nor put text into the logs through it. Otherwise a new one is made (32
hex digits, as nginx's ``$request_id``). ``weather.middleware.RequestIdMiddleware``
makes it current until the response is closed and returns it in ``X-Request-ID``;
``RequestIdFilter`` puts it on every log record made meanwhile in that thread.
"""

from __future__ import annotations

import logging
import re
import secrets
from contextvars import ContextVar

from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpRequest

from weather.client_ip import is_trusted_proxy

HEADER = "X-Request-ID"
_META_KEY = "HTTP_X_REQUEST_ID"
_WELL_FORMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,127}")
# What a log line made outside any request says.
NO_REQUEST = "-"

# A context variable, not a thread-local: each thread (and each asyncio task) sees its own.
_current: ContextVar[str] = ContextVar("request_id", default=NO_REQUEST)


def request_id_for(request: HttpRequest) -> str:
    """The ID a trusted proxy gave this request, if well-formed; else a new one."""
    given: str = request.META.get(_META_KEY, "")
    if (
        given
        and _WELL_FORMED.fullmatch(given)
        and is_trusted_proxy(request.META.get("REMOTE_ADDR", ""))
    ):
        return given
    # 16 random bytes in hex, as nginx makes its own: a UUID object around them took
    # four times as long, on every request.
    return secrets.token_hex(16)


def begin(request_id: str) -> None:
    """Make ``request_id`` the current one until the response is closed.

    Not only until the middleware returns: Django logs a 4xx or 5xx answer
    (``django.request``) after the whole middleware chain, and that line needs the ID.
    """
    _current.set(request_id)


def end() -> None:
    """No request is current any more: its response is closed."""
    _current.set(NO_REQUEST)


@receiver(request_finished)
def _end(**kwargs: object) -> None:
    # Sent once the server has closed the response; nothing after it is this request's.
    end()


def current() -> str:
    """The current request's ID, or ``NO_REQUEST`` outside one."""
    return _current.get()


class RequestIdFilter(logging.Filter):
    """Put the current request's ID on each record as ``request_id`` (``-`` outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _current.get()
        return True
