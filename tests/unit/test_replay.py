"""Kept answers served at the WSGI door (weather/replay.py): the same answer as Django's
own path gives, each view counted and given its ID as there, and nothing else taken.

The test client calls Django's handler directly; these tests call the WSGI application
as gunicorn does. Vault and OpenWeather are stubbed at the HTTP transport.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client, RequestFactory

from tests.support.metrics import parse, total
from weather import hit_counts, request_id, response_cache
from weather.models import WeatherLookup
from weather.replay import KeptAnswers

pytestmark = pytest.mark.django_db

PAGE, API = "/", "/api/weather"
LONDON = {"lat": "51.5073", "lon": "-0.1276"}
PROXY = "10.0.0.2"


class Answer:
    """What a WSGI server gets from the application, the answer closed as a server does.

    As Django's test client does, the database connection is not closed around the
    request: it holds the test's transaction (on PostgreSQL, closing it ends the test's
    access to the database)."""

    def __init__(self, app: KeptAnswers, method: str, path: str, **extra: Any) -> None:
        environ = getattr(RequestFactory(), method.lower())(path, LONDON, **extra).environ
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], *exc: Any) -> None:
            started.append((status, headers))

        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            body = app(environ, start_response)
            self.content = b"".join(body)
            self.request_id_while_open = request_id.current()
            if hasattr(body, "close"):
                body.close()
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
        ((self.status, header_list),) = started
        self.headers = dict(header_list)

    def same_as(self, other: Answer) -> bool:
        def without_id(headers: dict[str, str]) -> dict[str, str]:
            return {k: v for k, v in headers.items() if k != request_id.HEADER}

        return (self.status, without_id(self.headers), self.content) == (
            other.status,
            without_id(other.headers),
            other.content,
        )


@pytest.fixture
def app(settings, stubbed_services) -> KeptAnswers:
    """The WSGI application, answers kept for a minute, London's report in the cache."""
    settings.WEATHER_MEMO_SECONDS = 60
    Client().get(API, LONDON)  # fetched from the upstream: the next views are cache hits
    return KeptAnswers(WSGIHandler())


@pytest.fixture
def handled_by_django() -> Iterator[list[object]]:
    """One entry per request that went through Django's request handling."""
    handled: list[object] = []

    def started(**kwargs: object) -> None:
        handled.append(kwargs)

    request_started.connect(started)
    yield handled
    request_started.disconnect(started)


def test_a_kept_answer_is_served_without_django_s_request_handling(app, handled_by_django):
    Answer(app, "GET", API)  # made by the chain
    Answer(app, "GET", API)  # served at the door
    assert len(handled_by_django) == 1
    assert response_cache.served_count() == 1


@pytest.mark.parametrize("path", [PAGE, API])
def test_an_answer_served_at_the_door_is_the_one_django_made(app, path):
    made = Answer(app, "GET", path)
    assert response_cache.served_count() == 0  # made by the chain, and kept there
    again = Answer(app, "GET", path)
    assert response_cache.served_count() == 1
    assert again.status == "200 OK"
    assert again.same_as(made)
    etag = made.headers["ETag"]
    made_304 = Answer(app, "GET", path, HTTP_IF_NONE_MATCH=etag)
    again_304 = Answer(app, "GET", path, HTTP_IF_NONE_MATCH=etag)
    assert again_304.status == "304 Not Modified"
    assert again_304.same_as(made_304)
    assert response_cache.served_count() == 2


def test_each_view_at_the_door_has_its_own_id_current_until_it_is_closed(app):
    answers = [Answer(app, "GET", API) for _ in range(3)]
    assert response_cache.served_count() == 2
    ids = {answer.headers[request_id.HEADER] for answer in answers}
    assert len(ids) == 3
    assert answers[-1].request_id_while_open == answers[-1].headers[request_id.HEADER]
    assert request_id.current() == request_id.NO_REQUEST  # closing the answer ended it


def test_a_trusted_proxy_s_request_id_is_kept_at_the_door(app, settings):
    settings.WEATHER_TRUSTED_PROXIES = [PROXY]
    Answer(app, "GET", API, REMOTE_ADDR=PROXY)
    served = Answer(app, "GET", API, REMOTE_ADDR=PROXY, HTTP_X_REQUEST_ID="nginx-1234abcd")
    assert response_cache.served_count() == 1
    assert served.headers[request_id.HEADER] == "nginx-1234abcd"
    # From anyone else the ID is not believed: a new one is made.
    other = Answer(app, "GET", API, HTTP_X_REQUEST_ID="chosen-by-client")
    assert other.headers[request_id.HEADER] != "chosen-by-client"


def test_views_at_the_door_are_counted_as_the_chain_counts_them(app, client):
    lookup = WeatherLookup.objects.get()
    hits_before = lookup.hit_count
    Answer(app, "GET", API)  # made by the view, kept
    for address in ("192.0.2.1", "192.0.2.2"):
        Answer(app, "GET", API, REMOTE_ADDR=address)
    assert response_cache.served_count() == 2
    hit_counts.flush()
    lookup.refresh_from_db()
    assert lookup.hit_count == hits_before + 3
    samples = parse(client.get("/metrics").content.decode())
    # Named by the view that made the answer, as the chain names it.
    views = total(samples, "weather_http_requests_total", view="weather:api-weather", status="200")
    assert views == 4  # the fixture's fetch, the kept one, the two served at the door


def test_a_client_s_forwarded_proto_does_not_choose_the_answer(app, settings, handled_by_django):
    settings.WEATHER_TRUSTED_PROXIES = [PROXY]
    Answer(app, "GET", API)  # kept for plain HTTP
    Answer(app, "GET", API, HTTP_X_FORWARDED_PROTO="https")  # not from a proxy: still HTTP
    assert (len(handled_by_django), response_cache.served_count()) == (1, 1)
    # From the trusted proxy the request is HTTPS: another answer, made by the chain.
    Answer(app, "GET", API, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_PROTO="https")
    assert (len(handled_by_django), response_cache.served_count()) == (2, 1)


def test_what_is_not_kept_goes_to_django_as_it_came(app):
    Answer(app, "GET", API)
    assert Answer(app, "POST", API).status == "405 Method Not Allowed"
    missing = Answer(app, "GET", "/no-such-page/")
    assert missing.status == "404 Not Found"
    assert request_id.HEADER in missing.headers
    assert response_cache.served_count() == 0


@pytest.fixture
def finished() -> Iterator[list[object]]:
    """The sender of each request_finished sent meanwhile."""
    senders: list[object] = []

    def note(sender: object, **kwargs: object) -> None:
        senders.append(sender)

    request_finished.connect(note)
    yield senders
    request_finished.disconnect(note)


def test_a_kept_answer_that_wrote_nothing_finishes_without_the_signal(app, settings, finished):
    settings.WEATHER_HIT_FLUSH_SECONDS = 3600  # the view's counts wait in memory
    Answer(app, "GET", API)  # made by the chain: Django's handler sends the signal
    finished.clear()
    served = Answer(app, "GET", API)
    assert response_cache.served_count() == 1
    assert finished == []
    assert served.request_id_while_open == served.headers[request_id.HEADER]
    assert request_id.current() == request_id.NO_REQUEST


def test_a_kept_answer_whose_count_was_written_sends_request_finished(app, settings, finished):
    """Its receivers close the connection the write used, or check it for errors and
    age, as after Django's own answers: an open persistent connection too."""
    settings.WEATHER_HIT_FLUSH_SECONDS = 0  # the view's counts written at once
    Answer(app, "GET", API)
    finished.clear()
    Answer(app, "GET", API)
    assert response_cache.served_count() == 1
    assert finished == [KeptAnswers]
