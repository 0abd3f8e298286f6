"""Thin views: validate the query, call one lookup function, render; map errors to statuses."""

from __future__ import annotations

import functools
import json
import logging
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from weather import lookups
from weather.clients.openweather import (
    BudgetExhausted,
    InvalidApiKey,
    OpenWeatherError,
    PlaceNotFound,
    UpstreamRateLimited,
)
from weather.forms import WeatherQueryForm
from weather.models import Place, Units
from weather.vault import VaultError, api_keys

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 60
UNIT_LABELS = {
    Units.METRIC: {"temperature": "°C", "speed": "m/s"},
    Units.IMPERIAL: {"temperature": "°F", "speed": "mph"},
    Units.STANDARD: {"temperature": "K", "speed": "m/s"},
}
SEARCH_PARAMS = ("q", "lat", "lon")


STALE_REASONS = {
    "upstream_unavailable": "the weather service is not answering",
    "upstream_rate_limited": "the weather service is busy",
    "budget_exhausted": "this site has used its allowance of weather updates for now",
    "invalid_api_key": "the weather service refused this site's credentials",
    "vault_unavailable": "this site's credentials cannot be read",
}


def _failure(exc: OpenWeatherError | VaultError) -> tuple[int, str, str, int | None]:
    """Map a domain error to (status, code, message for people, Retry-After seconds)."""
    if isinstance(exc, PlaceNotFound):
        return 404, exc.code, f"{exc} Check the spelling, or add a country: Paris, FR.", None
    if isinstance(exc, BudgetExhausted):
        message = (
            "This site has used its allowance of weather updates for now. "
            f"Please try again in {exc.retry_after} seconds."
        )
        logger.warning("lookup refused: %s", exc)
        return 429, exc.code, message, exc.retry_after
    if isinstance(exc, UpstreamRateLimited):
        message = "The weather service is busy right now. Please try again in a minute."
    elif isinstance(exc, InvalidApiKey):
        message = "The weather service refused this site's credentials. Please try again later."
    elif isinstance(exc, VaultError):
        message = (
            "The weather service's credentials cannot be read right now. Please try again shortly."
        )
    else:
        message = "The weather service is not answering right now. Please try again shortly."
    # The message of every error here is built by this project and holds no secret.
    logger.warning("lookup failed: %s: %s", type(exc).__name__, exc)
    return 503, exc.code, message, RETRY_AFTER_SECONDS


def _lookup(form: WeatherQueryForm) -> lookups.WeatherReport:
    data = form.cleaned_data
    client = lookups.default_client()
    if form.is_point:
        return lookups.weather_at(
            lat=data["lat"], lon=data["lon"], units=data["units"], client=client
        )
    return lookups.weather_for_query(query=data["q"], units=data["units"], client=client)


@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """The search page, and the weather for the place searched."""
    if not any(name in request.GET for name in SEARCH_PARAMS):
        return render(request, "weather/dashboard.html", {"form": WeatherQueryForm()})

    form = WeatherQueryForm(request.GET)
    context: dict[str, Any] = {"form": form}
    if not form.is_valid():
        return render(request, "weather/dashboard.html", context, status=400)
    try:
        report = _lookup(form)
    except (OpenWeatherError, VaultError) as exc:
        status, _, message, retry_after = _failure(exc)
        if isinstance(exc, PlaceNotFound):
            form.add_error("q" if not form.is_point else None, message)
        else:
            context["service_error"] = message
        response = render(request, "weather/dashboard.html", context, status=status)
        if retry_after is not None:
            response["Retry-After"] = str(retry_after)
        return response

    context.update(
        report=report,
        days=lookups.daily_summaries(report.forecast),
        labels=UNIT_LABELS[report.units],
        sunrise=lookups.local_time(report.current.sunrise, report.current.timezone_offset),
        sunset=lookups.local_time(report.current.sunset, report.current.timezone_offset),
        observed=lookups.local_time(report.current.observed_at, report.current.timezone_offset),
        stale_reason=STALE_REASONS.get(report.stale_reason, "the weather service failed"),
    )
    return render(request, "weather/dashboard.html", context)


def _place_json(place: Place) -> dict[str, Any]:
    return {
        "name": place.name,
        "state": place.state,
        "country": place.country,
        "lat": float(place.lat),
        "lon": float(place.lon),
        "label": place.label,
    }


def _error(
    status: int, code: str, message: str, retry_after: int | None = None, **extra: Any
) -> JsonResponse:
    response = JsonResponse({"error": {"code": code, "message": message, **extra}}, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


@require_GET
def api_weather(request: HttpRequest) -> JsonResponse:
    """The same data as the page, as JSON."""
    form = WeatherQueryForm(request.GET)
    if not form.is_valid():
        fields = {name: [str(e) for e in errors] for name, errors in form.errors.items()}
        return _error(400, "invalid_input", form.error_summary(), fields=fields)
    try:
        report = _lookup(form)
    except (OpenWeatherError, VaultError) as exc:
        return _error(*_failure(exc))

    if report.is_stale:
        document = _document(report)
        document.update(
            age_seconds=int(report.age.total_seconds()), stale_reason=report.stale_reason
        )
        return JsonResponse(document, json_dumps_params={"ensure_ascii": False})
    return HttpResponse(_encoded_document(report), content_type="application/json")


def _document(report: lookups.WeatherReport) -> dict[str, Any]:
    # vars(), not dataclasses.asdict(): these dataclasses are flat, and asdict's deep
    # copies cost more than the rest of a cached response.
    return {
        "place": _place_json(report.place),
        "units": report.units,
        "unit_labels": UNIT_LABELS[report.units],
        "current": vars(report.current),
        "forecast": {
            "timezone_offset": report.forecast.timezone_offset,
            "steps": [vars(step) for step in report.forecast.steps],
            "daily": [vars(day) for day in lookups.daily_summaries(report.forecast)],
        },
        "alternatives": [_place_json(place) for place in report.alternatives],
        "source": report.source,
        "fetched_at": report.fetched_at.isoformat(),
        "expires_at": report.expires_at.isoformat(),
    }


@functools.lru_cache(maxsize=256)
def _encoded_document(report: lookups.WeatherReport) -> bytes:
    """The JSON body of a fresh report, encoded once: a memoised report is asked for again
    and again within WEATHER_MEMO_SECONDS, and encoding is most of a cached hit's cost."""
    return json.dumps(_document(report), cls=DjangoJSONEncoder, ensure_ascii=False).encode()


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Calls no dependency."""
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: the database answers and the API key can be had (cached or from Vault)."""
    checks: dict[str, dict[str, Any]] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = {"ok": True}
    except DatabaseError as exc:
        checks["database"] = {"ok": False, "error": type(exc).__name__}
    try:
        api_keys().get()
        checks["vault"] = {"ok": True}
    except VaultError as exc:
        checks["vault"] = {"ok": False, "error": type(exc).__name__}
    ready = all(check["ok"] for check in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )
