"""Kept answers (``weather/response_cache.py``) served at the WSGI door, ahead of Django's
request handling: ``KeptAnswers`` wraps the project's WSGI application
(``weatherproject/wsgi.py``).

A kept answer needs from the request cycle only what the middleware ahead of
``ResponseCacheMiddleware`` gives every answer: the trusted-proxy check, the request's
ID and its request metric. Those run here, through the same functions as there
(``client_ip.forget_untrusted_proto``, ``request_id``, ``middleware.count_request``).
What Django's handler adds around the chain (the request-started signal, the script
prefix, the middleware's exception wrappers) took as long as serving the kept answer
itself and does nothing for one.

Nor does the request-finished signal, mostly. Its receivers close what a request
opened (database connections, caches), reset the URLconf and end the request's ID.
A kept answer sets no URLconf and uses no cache; its ID is ended when the server closes
it. It uses the database only when counting its view writes the counts gathered so
far (every ``WEATHER_HIT_FLUSH_SECONDS``): then, and only then, the signal is sent, so
the connection it used is closed, or checked for errors and age, as after any of
Django's own answers. Sending it for every answer took a fifth of a kept answer's time.

Everything else, and every request no answer is kept for, goes to Django as it came.
``ResponseCacheMiddleware`` still serves kept answers to requests that reach the chain
(the test client calls Django's handler directly), so the two paths answer alike;
``tests/unit/test_replay.py`` holds them to that.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
from django.core.signals import request_finished

from weather import request_id, response_cache
from weather.caching import writes_in_thread
from weather.client_ip import forget_untrusted_proto
from weather.middleware import count_request

StartResponse = Callable[..., Any]
_SAFE = frozenset({"GET", "HEAD"})


class KeptAnswers:
    """``application`` (Django's WSGI handler), with kept answers served before it."""

    def __init__(self, application: WSGIHandler) -> None:
        self.application = application

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") not in _SAFE:
            return self.application(environ, start_response)
        started = time.perf_counter()
        request = WSGIRequest(environ)
        # Before the lookup: the scheme is part of an answer's key.
        forget_untrusted_proto(request.META)
        kept = response_cache.find(request)
        if kept is None:
            return self.application(environ, start_response)
        current = request_id.request_id_for(request)
        request_id.begin(current)  # until the answer is closed
        writes_in_thread.happened = False
        response_cache.count_view(request, kept)
        count_request(request, kept.status, started=started)
        start_response(kept.status_line, [*kept.headers, (request_id.HEADER, current)])
        return _KeptBody(kept.content, finished=writes_in_thread.happened)


class _KeptBody:
    """A kept answer's body as the server sends it: its bytes; on close, the request's ID
    ended, and ``request_finished`` sent if counting the view used the database.
    Not an ``HttpResponse``: building one only to hand its parts back took a tenth of
    the time."""

    __slots__ = ("_content", "_finished")

    def __init__(self, content: bytes, *, finished: bool) -> None:
        self._content = content
        self._finished = finished

    def __iter__(self) -> Iterator[bytes]:
        return iter((self._content,))

    def close(self) -> None:
        request_id.end()
        if self._finished:
            request_finished.send(sender=KeptAnswers)
