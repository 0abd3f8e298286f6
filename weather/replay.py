"""Kept answers (``weather/response_cache.py``) served at the WSGI door, ahead of Django's
request handling: ``KeptAnswers`` wraps the project's WSGI application
(``weatherproject/wsgi.py``).

A kept answer needs from the request cycle only what the middleware ahead of
``ResponseCacheMiddleware`` gives every answer: the trusted-proxy check, the request's
ID and its request metric. Those run here, through the same functions as there
(``client_ip.forget_untrusted_proto``, ``request_id``, ``middleware.count_request``).
What Django's handler adds around the chain (the request-started signal, the script
prefix, the middleware's exception wrappers) took as long as serving the kept answer
itself and does nothing for one. The request-finished signal still fires, when the
server closes the answer, as it does for Django's own.

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
        request_id.begin(current)  # until the answer is closed (request_id._end)
        response_cache.count_view(request, kept)
        count_request(request, kept.status, started=started)
        start_response(kept.status_line, [*kept.headers, (request_id.HEADER, current)])
        return _KeptBody(kept.content)


class _KeptBody:
    """A kept answer's body as the server sends it: its bytes, and on close the
    ``request_finished`` that closing one of Django's answers sends. Not an
    ``HttpResponse``: building one only to hand its parts back took a tenth of the time."""

    __slots__ = ("_content",)

    def __init__(self, content: bytes) -> None:
        self._content = content

    def __iter__(self) -> Iterator[bytes]:
        return iter((self._content,))

    def close(self) -> None:
        request_finished.send(sender=KeptAnswers)
