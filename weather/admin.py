"""Admin for operators: cached lookups (expire or refresh them), places, geocoding answers,
and upstream usage against the budget with the cache hit ratio."""

from __future__ import annotations

import json
from typing import Any, ClassVar, Protocol, TypeVar, cast

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html

from weather.budget import calls_today
from weather.clients.factory import default_client
from weather.errors import OpenWeatherError
from weather.models import (
    AirQualityLookup,
    CachedAnswer,
    ExpiringQuerySet,
    FetchedAnswer,
    GeocodeMatch,
    GeocodeQuery,
    Place,
    UpstreamUsage,
    WeatherLookup,
)
from weather.reports import refresh
from weather.vault.errors import VaultError

_Answer = TypeVar("_Answer", bound=CachedAnswer)
_Fetched = TypeVar("_Fetched", bound=FetchedAnswer)


class FreshnessFilter(admin.SimpleListFilter):
    title = "freshness"
    parameter_name = "freshness"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, str]]:
        return [("fresh", "Fresh"), ("expired", "Expired")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        # Only listed on admins of models built on ExpiringModel.
        rows = cast(ExpiringQuerySet[Any], queryset)
        if self.value() == "fresh":
            return rows.fresh()
        if self.value() == "expired":
            return rows.expired()
        return queryset


class CachedAnswerAdmin(admin.ModelAdmin[_Answer]):
    """What every cached answer's admin offers: its freshness, no adding by hand, and
    expiring the selected rows."""

    # What the expire message calls the rows: "Expired 3 lookup(s)."
    message_noun: ClassVar[str]
    actions = ["expire_now"]

    @admin.display(boolean=True, description="fresh")
    def fresh(self, obj: _Answer) -> bool:
        return obj.is_fresh()

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Answers come from the upstream only; a hand-made one would be served as fetched.
        return False

    @admin.action(description="Expire now (next request fetches again)")
    def expire_now(self, request: HttpRequest, queryset: ExpiringQuerySet[_Answer]) -> None:
        count = queryset.expire_now()
        self.message_user(request, f"Expired {count} {self.message_noun}.", messages.SUCCESS)


class _HasPayload(Protocol):
    # Each fetched answer declares its own payload field (their help texts differ).
    payload: Any


class FetchedAnswerAdmin(CachedAnswerAdmin[_Fetched]):
    """A fetched answer's admin: the raw payload hidden, shown read-only and pretty-printed."""

    exclude = ["payload"]

    @admin.display(description="payload")
    def payload_pretty(self, obj: _HasPayload) -> str:
        text = json.dumps(obj.payload, indent=2, sort_keys=True, ensure_ascii=False)
        return format_html('<pre class="payload">{}</pre>', text)


@admin.register(WeatherLookup)
class WeatherLookupAdmin(FetchedAnswerAdmin[WeatherLookup]):
    list_display = [
        "place",
        "units",
        "fetched_at",
        "expires_at",
        "fresh",
        "hit_count",
        "fetch_count",
    ]
    list_filter = [FreshnessFilter, "units", "place__country"]
    search_fields = ["place__name", "place__state", "place__country"]
    list_select_related = ["place"]
    date_hierarchy = "fetched_at"
    ordering = ["-fetched_at"]
    readonly_fields = [
        "place",
        "units",
        "fetched_at",
        "expires_at",
        "hit_count",
        "fetch_count",
        "payload_pretty",
    ]
    actions = ["expire_now", "refresh_now"]
    message_noun = "lookup(s)"

    @admin.action(description="Refresh now from OpenWeather")
    def refresh_now(self, request: HttpRequest, queryset: QuerySet[WeatherLookup]) -> None:
        client = default_client()
        done, failed = 0, []
        for lookup in queryset.select_related("place"):
            try:
                refresh(lookup=lookup, client=client)
                done += 1
            except (OpenWeatherError, VaultError) as exc:
                failed.append(f"{lookup}: {exc}")
        if done:
            self.message_user(request, f"Refreshed {done} lookup(s).", messages.SUCCESS)
        for failure in failed:
            self.message_user(request, f"Could not refresh {failure}", messages.ERROR)


@admin.register(AirQualityLookup)
class AirQualityLookupAdmin(FetchedAnswerAdmin[AirQualityLookup]):
    list_display = ["place", "aqi", "fetched_at", "expires_at", "fresh", "hit_count", "fetch_count"]
    list_filter = [FreshnessFilter, "place__country"]
    search_fields = ["place__name", "place__state", "place__country"]
    list_select_related = ["place"]
    date_hierarchy = "fetched_at"
    ordering = ["-fetched_at"]
    readonly_fields = [
        "place",
        "fetched_at",
        "expires_at",
        "hit_count",
        "fetch_count",
        "payload_pretty",
    ]
    message_noun = "air quality lookup(s)"

    @admin.display(description="index (1-5)")
    def aqi(self, obj: AirQualityLookup) -> object:
        return obj.payload.get("aqi") if isinstance(obj.payload, dict) else None


@admin.register(Place)
class PlaceAdmin(admin.ModelAdmin[Place]):
    list_display = ["name", "state", "country", "lat", "lon", "created_at"]
    list_filter = ["country"]
    search_fields = ["name", "state", "country"]
    readonly_fields = ["created_at"]


class GeocodeMatchInline(admin.TabularInline[GeocodeMatch, GeocodeQuery]):
    model = GeocodeMatch
    extra = 0
    readonly_fields = ["rank", "place"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: GeocodeQuery | None = None) -> bool:
        return False


@admin.register(GeocodeQuery)
class GeocodeQueryAdmin(CachedAnswerAdmin[GeocodeQuery]):
    list_display = ["query", "matches_found", "fetched_at", "expires_at", "fresh", "hit_count"]
    search_fields = ["query"]
    readonly_fields = ["query", "fetched_at", "expires_at", "hit_count"]
    inlines = [GeocodeMatchInline]
    message_noun = "query(ies)"

    @admin.display(description="matches")
    def matches_found(self, obj: GeocodeQuery) -> int:
        return obj.matches.count()

    # Only the description differs: a geocoding answer is asked for by a search.
    @admin.action(description="Expire now (next search asks the geocoder again)")
    def expire_now(self, request: HttpRequest, queryset: ExpiringQuerySet[GeocodeQuery]) -> None:
        super().expire_now(request, queryset)


def cache_hit_ratio() -> float | None:
    """Requests served from the cache over all lookups served (None before any)."""
    totals = WeatherLookup.objects.aggregate(hits=Sum("hit_count"), fetches=Sum("fetch_count"))
    hits, fetches = totals["hits"] or 0, totals["fetches"] or 0
    return hits / (hits + fetches) if hits + fetches else None


@admin.register(UpstreamUsage)
class UpstreamUsageAdmin(admin.ModelAdmin[UpstreamUsage]):
    """Calls to OpenWeather per minute and per day, against the caps."""

    list_display = ["window", "started_at", "calls", "cap", "used", "refused"]
    list_filter = ["window"]
    date_hierarchy = "started_at"
    readonly_fields = ["window", "started_at", "calls", "refused"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: UpstreamUsage | None = None) -> bool:
        return False

    @admin.display(description="cap")
    def cap(self, obj: UpstreamUsage) -> int:
        if obj.window == UpstreamUsage.Window.MINUTE:
            return settings.WEATHER_BUDGET_PER_MINUTE
        return settings.WEATHER_BUDGET_PER_DAY

    @admin.display(description="used")
    def used(self, obj: UpstreamUsage) -> str:
        cap = self.cap(obj)
        return f"{obj.calls / cap:.0%}" if cap else "—"

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        ratio = cache_hit_ratio()
        summary = {
            "calls_today": calls_today(),
            "cap_per_day": settings.WEATHER_BUDGET_PER_DAY,
            "cap_per_minute": settings.WEATHER_BUDGET_PER_MINUTE,
            "hit_ratio": "—" if ratio is None else f"{ratio:.1%}",
        }
        return super().changelist_view(request, {**(extra_context or {}), "usage": summary})
