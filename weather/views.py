"""Thin views: validate the query, call one service function, render; map errors to statuses."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_cache_control, patch_vary_headers
from django.utils.translation import get_language, gettext, gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from weather import metrics, popularity, preferences, response_cache
from weather.client_ip import client_key
from weather.clients.factory import client_for
from weather.errors import (
    FALLBACK_ERRORS,
    AllowanceExhausted,
    BudgetExhausted,
    InvalidApiKey,
    OpenWeatherError,
    PlaceNotFound,
    UpstreamRateLimited,
)
from weather.forms import (
    ApiForm,
    LanguageForm,
    PlaceSuggestionForm,
    WeatherQuery,
    WeatherQueryForm,
    weather_query,
)
from weather.fragments import page_etag, rendered_page, report_parts
from weather.freshness import cache_like_report, not_modified, not_modified_or, report_etag
from weather.models import Place
from weather.openapi import api_document
from weather.places import MAX_QUERY_LENGTH, popular_places, suggest_places
from weather.reports import WeatherReport, count_hit, weather_at, weather_for_query
from weather.serializers import DOCUMENT_VERSION, UNIT_LABELS, encoded_report, place_document
from weather.units import CLOCK_CHOICES, UNIT_CHOICES, WIND_CHOICES, Clock, Display, Units, WindUnit
from weather.vault.errors import VaultError
from weather.vault.keycache import api_keys

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 60
SEARCH_PARAMS = ("q", "lat", "lon")
# What a page can be shown in; the dashboard varies on Cookie unless the address names all.
DISPLAY_PARAMS = ("units", "wind", "clock")
EXAMPLE_PLACES = ("London", "New York", "Tokyo", "São Paulo", "Cape Town")


STALE_REASONS = {
    "upstream_unavailable": gettext_lazy("the weather service is not answering"),
    "upstream_rate_limited": gettext_lazy("the weather service is busy"),
    "budget_exhausted": gettext_lazy("this site has used its allowance of weather updates for now"),
    "allowance_exhausted": gettext_lazy("you have asked for a lot of new weather in a short time"),
    "invalid_api_key": gettext_lazy("the weather service refused this site's credentials"),
    "vault_unavailable": gettext_lazy("this site's credentials cannot be read"),
}
UNKNOWN_STALE_REASON = gettext_lazy("the weather service failed")


def _not_found(exc: PlaceNotFound, *, query: str) -> str:
    """Why nothing was found, and what to try: the error's own words in English (the
    API's messages stay as they were), a translated sentence naming the query otherwise."""
    hint = gettext("Check the spelling, or add a country: Paris, FR.")
    if get_language() == settings.LANGUAGE_CODE or not query.strip():
        return f"{exc} {hint}"
    found = gettext("No place called “%(query)s” was found.") % {"query": query.strip()}
    return f"{found} {hint}"


def _failure(
    exc: OpenWeatherError | VaultError, *, query: str = ""
) -> tuple[int, str, str, int | None]:
    """Map a domain error to (status, code, message for people, Retry-After seconds)."""
    if isinstance(exc, PlaceNotFound):
        return 404, exc.code, _not_found(exc, query=query), None
    if isinstance(exc, AllowanceExhausted):
        message = gettext(
            "You have asked for a lot of new weather in a short time. "
            "Please try again in %(seconds)s seconds; places already looked up "
            "still show."
        ) % {"seconds": exc.retry_after}
        logger.warning("lookup refused: %s", exc)
        return 429, exc.code, message, exc.retry_after
    if isinstance(exc, BudgetExhausted):
        message = gettext(
            "This site has used its allowance of weather updates for now. "
            "Please try again in %(seconds)s seconds."
        ) % {"seconds": exc.retry_after}
        logger.warning("lookup refused: %s", exc)
        return 429, exc.code, message, exc.retry_after
    if isinstance(exc, UpstreamRateLimited):
        message = gettext("The weather service is busy right now. Please try again in a minute.")
    elif isinstance(exc, InvalidApiKey):
        message = gettext(
            "The weather service refused this site's credentials. Please try again later."
        )
    elif isinstance(exc, VaultError):
        message = gettext(
            "The weather service's credentials cannot be read right now. Please try again shortly."
        )
    else:
        message = gettext(
            "The weather service is not answering right now. Please try again shortly."
        )
    # The message of every error here is built by this project and holds no secret.
    logger.warning("lookup failed: %s: %s", type(exc).__name__, exc)
    return 503, exc.code, message, RETRY_AFTER_SECONDS


def _lookup(request: HttpRequest, query: WeatherQuery) -> WeatherReport:
    who = client_key(request)
    client = client_for(who)
    if query.lat is not None and query.lon is not None:
        report = weather_at(lat=query.lat, lon=query.lon, units=query.units, client=client)
    else:
        report = weather_for_query(query=query.q, units=query.units, client=client)
    _count_view(place_id=report.place.pk, source=report.source, client=who)
    return report


def _count_view(*, place_id: int, source: str, client: str) -> None:
    """What every view of a report counts: the visit, and where the report came from."""
    popularity.record(place_id=place_id, client=client)
    metrics.report_served(source=source)


def _replayable(response: HttpResponse, report: WeatherReport) -> None:
    """Let the worker serve ``response`` again as it is (weather/response_cache.py) while
    it stays true, counting each view as a cached view through this one is counted."""
    if report.source != "cache" or report.is_stale:
        return  # the next view of it is a cache hit, with other words on the page

    # Only what counting needs: a kept answer must not keep the whole report alive.
    place_id, lookup_id = report.place.pk, report.lookup_id

    def count(request: HttpRequest) -> None:
        count_hit(lookup_id=lookup_id)
        _count_view(place_id=place_id, source="cache", client=client_key(request))

    # Not past the air quality's own expiry either: the page shows it.
    air_expires = report.air.expires_at if report.air is not None else None
    expires_at = min(report.expires_at, air_expires or report.expires_at)
    response_cache.keep_for_replay(response, expires_at=expires_at, count=count)


def _page(
    request: HttpRequest,
    context: dict[str, Any],
    *,
    units: str,
    display: Display,
    status: int = 200,
) -> HttpResponse:
    """Render the dashboard with what every state of it shows."""
    keep = [(name, request.GET[name]) for name in SEARCH_PARAMS if request.GET.get(name)]
    context = {
        "keep": keep,
        "unit_choices": UNIT_CHOICES,
        "units": units,
        "display": display,
        "wind_choices": WIND_CHOICES,
        "clock_choices": CLOCK_CHOICES,
        "popular": popular_places(limit=8) if "report" not in context else [],
        "examples": EXAMPLE_PLACES,
        "max_query_length": MAX_QUERY_LENGTH,
        **context,
    }
    return render(request, "weather/dashboard.html", context, status=status)


@require_safe
def dashboard(request: HttpRequest) -> HttpResponse:
    """The search page, and the weather for the place searched, in the visitor's units,
    wind unit and clock.

    It never sets a cookie, so a shared cache may keep what it marks public: units, wind
    unit and clock in the address are shown, not remembered (the toggles go through
    ``choose_units``).
    """
    chosen = request.GET.get("units")
    units = chosen or preferences.preferred_units(request)
    display = preferences.shown_display(request, units=units)
    if not any(name in request.GET for name in SEARCH_PARAMS):
        home = _page(request, {"form": WeatherQueryForm()}, units=units, display=display)
        # The toggle shows the remembered units; the rest is the same for everyone.
        patch_vary_headers(home, ["Cookie"])
        patch_cache_control(home, max_age=60)
        return home

    data = {**request.GET.dict(), "units": units}
    query = weather_query(data)
    if isinstance(query, WeatherQueryForm):
        return _uncached(_page(request, {"form": query}, units=units, display=display, status=400))
    # The search box shows what was asked for: the form is made only when a page is
    # rendered (a kept page needs none).
    context: dict[str, Any] = {}
    try:
        report = _lookup(request, query)
    except (OpenWeatherError, VaultError) as exc:
        status, _, message, retry_after = _failure(exc, query=query.q)
        context["form"] = form = WeatherQueryForm(data)
        if isinstance(exc, PlaceNotFound):
            form.is_valid()  # so that an error can be added to it
            form.add_error("q" if not query.is_point else None, message)
        else:
            context["service_error"] = message
        response = _uncached(_page(request, context, units=units, display=display, status=status))
        if retry_after is not None:
            response["Retry-After"] = str(retry_after)
        return response

    etag = page_etag(request, report, units, display=display)

    def render() -> HttpResponse:
        context.update(
            form=WeatherQueryForm(data),
            report=report,
            labels=UNIT_LABELS[report.units],
            report_parts=report_parts(report, display=display),
            stale_reason=STALE_REASONS.get(report.stale_reason, UNKNOWN_STALE_REASON),
        )
        return _page(request, context, units=units, display=display)

    if (answer := not_modified(request, etag=etag)) is not None:
        response = answer
    elif report.is_stale:
        response = render()  # it says its age: made for each view
    else:
        response = HttpResponse(rendered_page((etag, report.source), lambda: render().content))
    response["ETag"] = etag
    # The same for everyone who asks for this address: shared caches may keep it. Without
    # units in the address it shows the visitor's remembered ones, so it varies on Cookie.
    cache_like_report(response, report, shared=True)
    if not all(request.GET.get(name) for name in DISPLAY_PARAMS):
        patch_vary_headers(response, ["Cookie"])
    _replayable(response, report)
    return response


@require_safe
def choose_units(request: HttpRequest) -> HttpResponse:
    """The units toggle and the settings (wind unit, clock): remember the choices (made on
    this site) and go back to the page the visitor was on, shown in them.

    An address of its own that no cache keeps: were the toggle the page's own address,
    a shared cache that had seen it once would answer the next visitor's click itself,
    without the cookie, and the choice would be lost.
    """
    units = request.GET.get("units", "")
    wind, clock = request.GET.get("wind", ""), request.GET.get("clock", "")
    keep = {name: request.GET[name] for name in SEARCH_PARAMS if request.GET.get(name)}
    for name, value, valid in (
        ("units", units, Units.values),
        ("wind", wind, WindUnit.values),
        ("clock", clock, Clock.values),
    ):
        if value in valid:
            keep[name] = value
    home = reverse("pages:dashboard")  # in the language of the toggle's own address
    response = redirect(f"{home}?{urlencode(keep)}" if keep else home)
    response.status_code = 303
    preferences.remember_units(request, response, units)
    shown_units = Units(units) if units in Units.values else preferences.preferred_units(request)
    preferences.remember_wind(request, response, wind=wind, units=shown_units)
    preferences.remember_clock(request, response, clock=clock)
    add_never_cache_headers(response)
    patch_cache_control(response, private=True)
    return response


def _uncached(response: HttpResponse) -> HttpResponse:
    add_never_cache_headers(response)
    return response


def _error(
    status: int, code: str, message: str, retry_after: int | None = None, **extra: Any
) -> JsonResponse:
    response = JsonResponse({"error": {"code": code, "message": message, **extra}}, status=status)
    add_never_cache_headers(response)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def _api_language(request: HttpRequest) -> str | LanguageForm | None:
    """The API's ``lang`` (None without one), or the bound form that says what is wrong."""
    if "lang" not in request.GET:
        return None  # the common case builds no form
    form = LanguageForm({"lang": request.GET["lang"]})
    if not form.is_valid():
        return form
    return form.cleaned_data["lang"] or None


@csrf_exempt  # GET and HEAD only: any other method is refused with 405, not 403
@require_safe
def api_weather(request: HttpRequest) -> HttpResponse:
    """The same data as the page, as JSON; with ``lang``, its words in that language too."""
    query = weather_query(request.GET)
    language = _api_language(request)
    if isinstance(query, WeatherQueryForm) or isinstance(language, LanguageForm):
        invalid = [form for form in (query, language) if isinstance(form, ApiForm)]
        summary = " ".join(form.error_summary() for form in invalid)
        fields = {
            name: [str(e) for e in errors]
            for form in invalid
            for name, errors in form.errors.items()
        }
        return _error(400, "invalid_input", summary, fields=fields)
    try:
        report = _lookup(request, query)
    except (OpenWeatherError, VaultError) as exc:
        return _error(*_failure(exc))
    body = encoded_report(report, wind=query.wind, language=language)
    response = HttpResponse(body, content_type="application/json")
    cache_like_report(response, report, shared=True)
    # Without wind= and lang= the ETag is what it always was; the clock does not apply
    # (ISO times).
    wind = () if query.wind is None else (query.wind.value,)
    etag = report_etag(report, DOCUMENT_VERSION, *wind, *([language] if language else []))
    if language:
        response["Content-Language"] = language
    answer = not_modified_or(request, response, etag=etag)
    _replayable(answer, report)
    return answer


@csrf_exempt  # GET and HEAD only: any other method is refused with 405, not 403
@require_safe
def api_places(request: HttpRequest) -> JsonResponse:
    """Places matching a half-typed name, for the search box; junk gets an empty list."""
    form = PlaceSuggestionForm(request.GET)
    places: list[Place] = []
    refused = False
    if form.is_valid():
        client = client_for(client_key(request))
        try:
            places = suggest_places(
                query=form.cleaned_data["q"],
                client=client,
                ask_upstream=form.cleaned_data["lookup"],
            )
        except FALLBACK_ERRORS:
            refused = True  # no suggestions for now: the search itself says why
    response = JsonResponse(
        {"places": [place_document(place) for place in places]},
        json_dumps_params={"ensure_ascii": False},
    )
    if refused:
        # Born of this client's spent share or a failure: true for nobody else, and not
        # for long, so no cache may keep it (one client must not empty everyone's list).
        add_never_cache_headers(response)
    else:
        # The same for everyone; it changes only with the geocoding cache, and a minute
        # spares repeated keystrokes.
        patch_cache_control(response, public=True, max_age=60)
    return response


@csrf_exempt  # GET and HEAD only: any other method is refused with 405, not 403
@require_safe
def api_openapi(request: HttpRequest) -> HttpResponse:
    """The API's OpenAPI 3.1 document (weather/openapi.json)."""
    document = api_document()
    response = HttpResponse(document.body, content_type="application/json")
    patch_cache_control(response, public=True, max_age=3600)
    return not_modified_or(request, response, etag=document.etag)


@require_safe
def robots_txt(request: HttpRequest) -> HttpResponse:
    """Let crawlers index the pages, not the JSON API."""
    return HttpResponse("User-agent: *\nDisallow: /api/\n", content_type="text/plain")


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    """Point browsers asking for /favicon.ico (the admin, raw JSON) at the app's icon."""
    # Not permanent: the static file's hashed name changes with each release.
    response = redirect(static("weather/icons/01d.svg"))
    patch_cache_control(response, max_age=24 * 3600)
    return response


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Calls no dependency."""
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: the database answers and the API key can be had (cached or from Vault).

    The public answer is only ready or not; which check failed, and how, goes to the
    log, or into the body too with WEATHER_READYZ_DETAILS on (for private networks).
    """
    failures: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        failures["database"] = type(exc).__name__
    try:
        api_keys().get()
    except VaultError as exc:
        failures["vault"] = type(exc).__name__
    for check, error in failures.items():
        logger.warning("readyz: the %s check failed: %s", check, error)
    body: dict[str, Any] = {"status": "unavailable" if failures else "ok"}
    if settings.WEATHER_READYZ_DETAILS:
        body["checks"] = {
            check: {"ok": False, "error": failures[check]} if check in failures else {"ok": True}
            for check in ("database", "vault")
        }
    return JsonResponse(body, status=503 if failures else 200)
