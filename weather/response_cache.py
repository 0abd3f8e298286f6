"""Whole fresh public answers, kept per worker and served again without the view or most
of the middleware: ``ResponseCacheMiddleware`` (``weather/middleware.py``) asks here.

A cached page or API answer is the same bytes for everyone who sends the same request,
yet building it again cost each view the whole middleware chain (sessions, CSRF, auth,
messages, CSP's header, axes) and the view's lookups: more than a bare Django request
(bench/RESULTS.md). A view opts in per response with ``keep_for_replay``, only for an
answer that is public, fresh and served from the cache, and names what must still
happen on each view of it (hit counts, the visit, the report metric): ``Replay.count``.

What an answer depends on is its key: method, scheme, host, the full path (a language
prefix included), the preference cookies (``preferences.cookie_state``: a page varies
on those, not on any other cookie), and the conditional headers (a 304 is kept as its
own answer). Headers named in the answer's ``Vary`` other than ``Cookie`` are compared
too, so an answer that varies on ``Accept-Encoding`` or ``Accept-Language`` is served
only to a request that sends the same. Nothing that sets a cookie is kept.

An entry lives until the earliest of: the report's expiry, ``WEATHER_MEMO_SECONDS``
(so an operator's "expire now" shows within that time, as with the report memo), and
the moment its ``max-age`` would count down a second, so a served copy is exactly what
the view would answer then (its ``Cache-Control`` included).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.http.response import ResponseHeaders
from django.urls import ResolverMatch
from django.utils import timezone
from django.utils.cache import cc_delim_re

from weather import preferences, request_id
from weather.caching import NO_SETTING, PROCESS_CACHES, BoundedCache

_MARK = "_weather_replay"
_CONDITIONAL = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE")
_SAFE = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class Replay:
    """What a view says of an answer it lets be served again: until when (its report's
    expiry) and what to count on each view of it (called with that view's request)."""

    expires_at: datetime
    count: Callable[[HttpRequest], None]


@dataclass(frozen=True)
class Kept:
    """One answer as the whole chain made it, and what serving it again needs."""

    status: int
    status_line: str  # "304 Not Modified", as a WSGI server is given it
    headers: tuple[tuple[str, str], ...]  # without the request's own ID
    content: bytes
    vary: tuple[tuple[str, str], ...]  # (META name, the value the first request sent)
    resolver_match: ResolverMatch | None
    count: Callable[[HttpRequest], None]


def _weigh(kept: Kept) -> int:
    # The body and headers; the rest (a resolver match, a callable) is shared and small.
    return len(kept.content) + sum(len(name) + len(value) for name, value in kept.headers) + 512


# A page is about 30 kB; a worker keeps its most recent few hundred answers.
_answers: BoundedCache[Kept] = BoundedCache(
    name="response_cache.answers", max_entries=1024, max_bytes=16 * 2**20, weigh=_weigh
)


class _ServedCount:
    """How many answers were served from here: the tests' and the benchmark's proof that
    the fast path is taken (what a view counts is the same either way)."""

    def __init__(self) -> None:
        self.value = 0
        PROCESS_CACHES.register(self, name="response_cache.served", cleared_by=NO_SETTING)

    def clear(self) -> None:
        self.value = 0


_served = _ServedCount()


def served_count() -> int:
    """How many answers this process has served from the cache since it was cleared."""
    return _served.value


def keep_for_replay(
    response: HttpResponseBase, *, expires_at: datetime, count: Callable[[HttpRequest], None]
) -> None:
    """Let ``response`` be served again to the same request until ``expires_at`` at the
    latest, calling ``count(request)`` for each view served that way."""
    setattr(response, _MARK, Replay(expires_at=expires_at, count=count))


def _key(request: HttpRequest) -> tuple[object, ...]:
    meta = request.META
    return (
        request.method,
        request.scheme,
        meta.get("HTTP_HOST"),
        meta.get("SERVER_NAME"),
        meta.get("SERVER_PORT"),
        # The address as it came, not get_full_path()'s escaped copy of it: two spellings
        # of one address are two keys (each answered right), and escaping every request's
        # path and query took a tenth of a kept answer's time.
        request.path,
        meta.get("QUERY_STRING", ""),
        preferences.cookie_state(request),
        *(meta.get(name) for name in _CONDITIONAL),
    )


def served(request: HttpRequest) -> HttpResponse | None:
    """The kept answer to ``request`` (its views counted), or None to answer it anew."""
    kept = find(request)
    return replay(request, kept) if kept is not None else None


def find(request: HttpRequest) -> Kept | None:
    """The answer kept for ``request``, if there is one true for it; nothing counted."""
    if request.method not in _SAFE or settings.WEATHER_MEMO_SECONDS <= 0:
        return None
    kept = _answers.get(_key(request))
    if kept is None:
        return None
    meta = request.META
    if any(meta.get(name) != value for name, value in kept.vary):
        return None
    return kept


def replay(request: HttpRequest, kept: Kept) -> HttpResponse:
    """``kept`` as this request's own answer, its view counted as the view counts it."""
    response = HttpResponse(kept.content, status=kept.status)
    # Exactly the kept headers: a 304 has no Content-Type, which HttpResponse would add.
    response.headers = _copied(kept.headers)
    count_view(request, kept)
    return response


def count_view(request: HttpRequest, kept: Kept) -> None:
    """Count a view of ``kept`` as its view counts one (``weather/replay.py`` answers
    with the kept fields themselves, and calls only this)."""
    request.resolver_match = kept.resolver_match
    kept.count(request)
    _served.value += 1


def _copied(headers: tuple[tuple[str, str], ...]) -> ResponseHeaders:
    """A response's own copy of kept headers. They were checked and encoded when the
    chain first set them, so they are copied as they are rather than set one by one
    again (which took a fifth of a kept answer's time)."""
    copy = ResponseHeaders({})
    copy._store = {name.lower(): (name, value) for name, value in headers}
    return copy


def keep(request: HttpRequest, response: HttpResponseBase) -> None:
    """Keep ``response`` for requests like ``request`` if its view allowed it."""
    replay: Replay | None = getattr(response, _MARK, None)
    if (
        replay is None
        or request.method not in _SAFE
        or response.status_code not in (200, 304)
        or response.cookies
        or response.streaming
        or not isinstance(response, HttpResponse)
    ):
        return
    ttl = seconds_kept(response, replay.expires_at)
    if ttl <= 0:
        return
    vary = tuple(
        (meta_name, request.META.get(meta_name, ""))
        for header in cc_delim_re.split(response.get("Vary", ""))
        if header and header.lower() != "cookie"
        for meta_name in ["HTTP_" + header.upper().replace("-", "_")]
    )
    kept = Kept(
        status=response.status_code,
        status_line=f"{response.status_code} {response.reason_phrase}",
        # Each answer gets its own ID (weather/request_id.py). RequestIdMiddleware sets it
        # outside this one, after keeping; were the order ever changed, it is still not kept.
        headers=tuple(
            (name, value)
            for name, value in response.headers.items()
            if name.lower() != request_id.HEADER.lower()
        ),
        content=response.content,
        vary=vary,
        resolver_match=request.resolver_match,
        count=replay.count,
    )
    _answers.put(_key(request), kept, ttl=ttl)


def seconds_kept(response: HttpResponseBase, expires_at: datetime) -> float:
    """How long the answer stays exactly what the view would make: no longer than the
    memo's time, and not past the second its ``max-age`` (whole seconds left) ticks down."""
    left = (expires_at - timezone.now()).total_seconds()
    if left <= 0:
        return 0.0
    # max-age is floor(left) until left reaches that whole number: this much longer.
    same_max_age = left - math.floor(left) if left != math.floor(left) else 1.0
    return min(settings.WEATHER_MEMO_SECONDS, same_max_age, left)
