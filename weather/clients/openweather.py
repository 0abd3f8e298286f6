"""A thin, typed client for the four OpenWeather endpoints the dashboard needs.

Places are resolved by the geocoding API first and weather is then asked for by
coordinates, because OpenWeather deprecated looking weather up by city name.

Every failure surfaces as one of ``weather.errors``' tree, decided in one place
(``answers.raise_for``).

The API key travels as the ``appid`` query parameter (OpenWeather accepts it
nowhere else), so request URLs are secrets: this module never puts a URL, or an
exception that embeds one, into a message, a log line or an exception chain.

An answer is read in bounded steps (``reading.py``): at most ``max_bytes``
(decompressed), all of it within the call's timeouts however slowly it is sent, and
JSON no deeper than any real answer, without NaN or Infinity.
"""

from __future__ import annotations

import contextvars
import copy
import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

import requests
import urllib3
from django.views.decorators.debug import sensitive_variables

from weather.clients.air_schema import AirPollution, parse_air_pollution
from weather.clients.answers import PARSE_ERRORS, parse_answer, raise_for, status_of
from weather.clients.protocols import Budget, KeySource
from weather.clients.reading import AnswerRefused, parse_json, read_capped
from weather.clients.recording import ENDPOINTS, outcome_of, record_call
from weather.clients.schema import (
    Conditions,
    Forecast,
    GeoPlace,
    parse_conditions,
    parse_forecast,
    parse_geo_place,
)
from weather.errors import (
    InvalidApiKey,
    OpenWeatherError,
    PlaceNotFound,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from weather.redaction import MASK, ApiKey
from weather.units import Units

logger = logging.getLogger(__name__)

_CURRENT, _FORECAST = "/data/2.5/weather", "/data/2.5/forecast"
_AIR = "/data/2.5/air_pollution"


class OpenWeatherClient:
    """Call OpenWeather with a timeout on every request and typed results."""

    def __init__(
        self,
        *,
        base_url: str,
        keys: KeySource,
        session: requests.Session | None = None,
        connect_timeout: float = 3.05,
        read_timeout: float = 5.0,
        max_bytes: int = 2_000_000,
        budget: Budget | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.keys = keys
        self.session = session or requests.Session()
        self.timeout = (connect_timeout, read_timeout)
        self.max_bytes = max_bytes
        self.budget = budget

    def with_budget(self, budget: Budget) -> OpenWeatherClient:
        """This client (its session, keys and timeouts), spending from ``budget``."""
        other = copy.copy(self)
        other.budget = budget
        return other

    def geocode(
        self, query: str, *, limit: int = 5, deadline: float | None = None, refresh: bool = False
    ) -> list[GeoPlace]:
        """Resolve a place name to at most ``limit`` places, best match first."""
        body = self._get("/geo/1.0/direct", {"q": query, "limit": limit}, deadline, refresh)
        if not isinstance(body, list):
            raise UpstreamUnavailable("OpenWeather sent an unexpected geocoding payload")
        if not body:
            raise PlaceNotFound("No place matches that name")
        places = []
        for item in body:
            try:
                places.append(parse_geo_place(item))
            except PARSE_ERRORS:
                # One odd entry (no coordinates, say) costs that entry, not the answer.
                logger.info("dropped a geocoding entry OpenWeather sent in an unexpected shape")
        if not places:
            raise UpstreamUnavailable("OpenWeather sent no usable geocoding entry")
        return places

    def current(
        self,
        *,
        lat: float,
        lon: float,
        units: Units,
        deadline: float | None = None,
        refresh: bool = False,
    ) -> Conditions:
        """Fetch the current conditions at a point."""
        params = {"lat": lat, "lon": lon, "units": units}
        body = self._get(_CURRENT, params, deadline, refresh)
        return parse_answer(parse_conditions, body, "current weather")

    def forecast(
        self,
        *,
        lat: float,
        lon: float,
        units: Units,
        deadline: float | None = None,
        refresh: bool = False,
    ) -> Forecast:
        """Fetch the 5-day forecast in 3-hour steps at a point."""
        params = {"lat": lat, "lon": lon, "units": units}
        body = self._get(_FORECAST, params, deadline, refresh)
        return parse_answer(parse_forecast, body, "forecast")

    def air_pollution(
        self, *, lat: float, lon: float, deadline: float | None = None, refresh: bool = False
    ) -> AirPollution:
        """Fetch the current air pollution at a point (the same in every unit system)."""
        body = self._get(_AIR, {"lat": lat, "lon": lon}, deadline, refresh)
        return parse_answer(parse_air_pollution, body, "air pollution")

    def current_and_forecast(
        self,
        *,
        lat: float,
        lon: float,
        units: Units,
        deadline: float | None = None,
        refresh: bool = False,
    ) -> tuple[Conditions, Forecast]:
        """Fetch the current conditions and the forecast at a point, at the same time.

        The two answers do not depend on each other, so a cold search waits for one round
        trip here, not two. Both units of the budget are spent first, together, in the
        calling thread (the budget lives in the database, and another thread would need a
        connection of its own): both or neither. Then each is asked for from a
        short-lived thread of its own.
        """
        params = {"lat": lat, "lon": lon, "units": units}
        calls = ((_CURRENT, params), (_FORECAST, params))
        current, forecast = self._with_key_retry(calls, deadline, refresh)
        return (
            parse_answer(parse_conditions, current, "current weather"),
            parse_answer(parse_forecast, forecast, "forecast"),
        )

    def current_forecast_and_air(
        self,
        *,
        lat: float,
        lon: float,
        units: Units,
        deadline: float | None = None,
        refresh: bool = False,
    ) -> tuple[Conditions, Forecast, AirPollution | OpenWeatherError]:
        """``current_and_forecast``, with the air pollution asked for at the same time, so a
        cold place costs one round trip for all three.

        The weather comes first: its two units of the budget are spent before the air's.
        The air's failure (the budget's refusal included) never fails the weather: it is
        returned in the air's place, not raised.
        """
        params = {"lat": lat, "lon": lon, "units": units}
        calls = ((_CURRENT, params), (_FORECAST, params), (_AIR, {"lat": lat, "lon": lon}))
        current, forecast, air = self._with_key_retry(calls, deadline, refresh, optional=1)
        if not isinstance(air, OpenWeatherError):
            try:
                air = parse_answer(parse_air_pollution, air, "air pollution")
            except OpenWeatherError as exc:
                air = exc
        return (
            parse_answer(parse_conditions, current, "current weather"),
            parse_answer(parse_forecast, forecast, "forecast"),
            air,
        )

    def _with_key_retry(
        self,
        calls: tuple[tuple[str, Mapping[str, Any]], ...],
        deadline: float | None,
        refresh: bool,
        *,
        optional: int = 0,
    ) -> list[Any]:
        """``_at_once``; on a 401 of a required call, re-read the key once and ask again."""
        try:
            return self._at_once(calls, self.keys.get(), deadline, refresh, optional=optional)
        except InvalidApiKey:
            self.keys.invalidate()
            return self._at_once(calls, self.keys.get(), deadline, refresh, optional=optional)

    def _at_once(
        self,
        calls: tuple[tuple[str, Mapping[str, Any]], ...],
        api_key: ApiKey,
        deadline: float | None,
        refresh: bool,
        *,
        optional: int,
    ) -> list[Any]:
        """Send the calls at once, each in its own thread, once paid for (in this thread);
        the last ``optional`` calls' errors are their answers, the others' are raised."""
        required = len(calls) - optional
        answers: list[Any] = [None] * len(calls)

        def receive(index: int, timeout: tuple[float, float]) -> None:
            path, params = calls[index]
            try:
                answers[index] = self._receive(path, params, api_key, timeout, deadline)
            except Exception as exc:  # whatever it is, it is raised in the calling thread
                answers[index] = exc

        def send(index: int, timeout: tuple[float, float]) -> threading.Thread:
            # The thread runs in a copy of this one's context, so its log lines carry the
            # request's ID.
            thread = threading.Thread(
                target=contextvars.copy_context().run,
                args=(receive, index, timeout),
                name=f"{ENDPOINTS.get(calls[index][0], 'upstream')}-fetch",
                daemon=True,
            )
            thread.start()
            return thread

        # The required calls are paid for together before any is sent: a refusal raises
        # here, so no call goes out that the answer could not use, and a budget with one
        # call left refuses them all rather than give one away for nothing.
        timeout = self._spend([path for path, _ in calls[:required]], deadline, refresh)
        threads = [send(index, timeout) for index in range(required)]
        try:
            # The optional ones are paid for while the required ones are on their way.
            for index in range(required, len(calls)):
                try:
                    timeout = self._spend([calls[index][0]], deadline, refresh)
                except OpenWeatherError as exc:
                    answers[index] = exc  # refused: not sent
                    continue
                threads.append(send(index, timeout))
        finally:  # even when paying failed (the database): no thread outlives the request
            for thread in threads:
                thread.join()
        for index, answer in enumerate(answers):
            if isinstance(answer, Exception) and (
                index < required or not isinstance(answer, OpenWeatherError)
            ):
                raise answer
        return answers

    def _get(
        self, path: str, params: Mapping[str, Any], deadline: float | None, refresh: bool
    ) -> Any:
        """GET a path; on a 401 re-read the key once, since it may have been rotated."""
        try:
            return self._get_once(path, params, self.keys.get(), deadline, refresh)
        except InvalidApiKey:
            self.keys.invalidate()
            return self._get_once(path, params, self.keys.get(), deadline, refresh)

    def _timeout(self, deadline: float | None) -> tuple[float, float]:
        """The per-call timeouts, shortened so the call cannot outlive the request's budget."""
        if deadline is None:
            return self.timeout
        remaining = deadline - time.monotonic()
        if remaining < 0.05:
            raise UpstreamUnavailable("This request's time budget for OpenWeather is spent")
        return (min(self.timeout[0], remaining), min(self.timeout[1], remaining))

    def _get_once(
        self,
        path: str,
        params: Mapping[str, Any],
        api_key: ApiKey,
        deadline: float | None,
        refresh: bool,
    ) -> Any:
        timeout = self._spend([path], deadline, refresh)
        return self._receive(path, params, api_key, timeout, deadline)

    def _spend(
        self, paths: list[str], deadline: float | None, refresh: bool
    ) -> tuple[float, float]:
        """Spend the budget for a call to each of ``paths``; return the calls' timeouts."""
        try:
            timeout = self._timeout(deadline)
            if self.budget is not None:
                self.budget.spend(refresh=refresh, calls=len(paths))
        except OpenWeatherError as exc:
            # Our own refusal (the budget, a client's share, the request's deadline).
            for path in paths:
                record_call(
                    endpoint=ENDPOINTS.get(path, path),
                    outcome="refused",
                    status=None,
                    seconds=None,
                    reason=exc.code,
                )
            raise
        return timeout

    def _receive(
        self,
        path: str,
        params: Mapping[str, Any],
        api_key: ApiKey,
        timeout: tuple[float, float],
        deadline: float | None,
    ) -> Any:
        """Send a call already paid for; return its JSON body, or raise its error."""
        endpoint = ENDPOINTS.get(path, path)
        started = time.perf_counter()
        status: int | None = None
        try:
            status, ok, content = self._send(path, params, api_key, timeout, deadline)
            body = parse_json(content)
            raise_for(status_of(body, status) if ok else status, body)
            if body is None:
                raise UpstreamUnavailable("OpenWeather sent a response that is not JSON")
        except OpenWeatherError as exc:
            record_call(
                endpoint=endpoint,
                outcome=outcome_of(exc),
                status=status,
                seconds=time.perf_counter() - started,
                reason=exc.code,
            )
            raise
        record_call(
            endpoint=endpoint, outcome="ok", status=status, seconds=time.perf_counter() - started
        )
        return body

    @sensitive_variables("query")
    def _send(
        self,
        path: str,
        params: Mapping[str, Any],
        api_key: ApiKey,
        timeout: tuple[float, float],
        deadline: float | None,
    ) -> tuple[int, bool, bytes]:
        """GET the path; return the status, whether it is a success, and the body (masked)."""
        query = {**params, "appid": api_key.reveal()}
        # The whole answer, not each read, must arrive within the call's timeouts (and
        # within the request's own deadline).
        finish_by = time.monotonic() + sum(timeout)
        if deadline is not None:
            finish_by = min(finish_by, deadline)
        try:
            response = self.session.get(
                self.base_url + path, params=query, timeout=timeout, stream=True
            )
            with response:
                content = read_capped(response, max_bytes=self.max_bytes, finish_by=finish_by)
        except AnswerRefused as exc:
            raise UpstreamUnavailable(str(exc)) from None
        except requests.Timeout:
            # `from None`, not `from exc`: requests' messages embed the URL, and the
            # URL carries the key; the chain would print it in any traceback.
            raise UpstreamTimeout(f"OpenWeather did not answer within {timeout[1]:g} s") from None
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            # urllib3's and the socket's own errors come from reading the body in steps.
            raise UpstreamUnavailable(
                f"Could not reach OpenWeather ({type(exc).__name__})"
            ) from None
        # An answer that repeats the key (an error echoing the request, a broken proxy)
        # must not carry it into a page, a stored payload or a log line. Every string is
        # masked again after decoding and cleaning (schema.clean_text), which also finds
        # the key spelt with JSON escapes or split by invisible characters; this first pass
        # only keeps the plain echo out of the decoded body as a whole.
        content = content.replace(api_key.reveal().encode(), MASK.encode())
        return response.status_code, response.ok, content
