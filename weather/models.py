"""Places, the geocoding cache, cached weather and air quality lookups, refresh leases and
upstream usage.

Every expiry is data (an indexed ``expires_at``), and every piece of state that
workers share lives here rather than in process memory.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Self, TypeVar, cast

from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils import timezone

from weather.units import Units


class Place(models.Model):
    """A real place, one row per pair of coordinates (to 4 decimals, about 11 m)."""

    name = models.CharField(max_length=200)
    state = models.CharField(max_length=200, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 alpha-2 code")
    lat = models.DecimalField(max_digits=7, decimal_places=4)
    lon = models.DecimalField(max_digits=7, decimal_places=4)
    local_names = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "country", "state"]
        constraints = [
            models.UniqueConstraint(fields=["lat", "lon"], name="unique_place_coordinates"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """Name, state and country, as people write them: "London, England, GB"."""
        return ", ".join(part for part in (self.name, self.state, self.country) if part)

    def name_in(self, language: str) -> str:
        """The name in ``language`` when the geocoder gave one ("München"), else ``name``."""
        local = self.local_names.get(language) if isinstance(self.local_names, dict) else None
        return local if isinstance(local, str) and local else self.name

    def label_in(self, language: str) -> str:
        """``label`` with the name in ``language``: "München, Bavaria, DE"."""
        parts = (self.name_in(language), self.state, self.country)
        return ", ".join(part for part in parts if part)


_Row = TypeVar("_Row", bound=models.Model)


class ExpiringQuerySet(models.QuerySet[_Row]):
    """Rows by freshness: the one place that knows what "fresh" means."""

    def fresh(self, now: datetime | None = None) -> Self:
        return self.filter(expires_at__gt=now or timezone.now())

    def expired(self, now: datetime | None = None) -> Self:
        return self.filter(expires_at__lte=now or timezone.now())

    def expire_now(self) -> int:
        """Mark the rows expired now, so the next request fetches them; return how many."""
        return self.update(expires_at=timezone.now())


class ExpiringModel(models.Model):
    """A row that is valid until ``expires_at`` (indexed, so purging and filtering are cheap)."""

    expires_at = models.DateTimeField(db_index=True)

    objects = ExpiringQuerySet.as_manager()

    class Meta:
        abstract = True

    def is_fresh(self, now: datetime | None = None) -> bool:
        return self.expires_at > (now or timezone.now())


class CachedAnswer(ExpiringModel):
    """An upstream answer kept until ``expires_at``, with when it was fetched and its hits."""

    fetched_at = models.DateTimeField()
    hit_count = models.PositiveIntegerField(default=0, help_text="Requests served from cache")

    class Meta:
        abstract = True


class FetchedAnswer(CachedAnswer):
    """A cached answer stored by fetching it, one row per key, written by ``store``."""

    fetch_count = models.PositiveIntegerField(default=0, help_text="Upstream fetches")

    class Meta:
        abstract = True

    @classmethod
    def store(cls, known: Self | None, values: dict[str, Any], **key: Any) -> Self:
        """Write a fetched answer for ``key`` and count the fetch. ``known`` is the row
        as read before fetching (None: there was none), so a store is one statement;
        should the row have changed since (another worker stored it, or an operator
        deleted it), the other statement follows."""
        # The stubs type an abstract model's manager by the abstract class.
        rows = cast("models.QuerySet[Self]", cls._default_manager.all())
        counted = F("fetch_count") + 1
        if known is not None and rows.filter(pk=known.pk).update(**values, fetch_count=counted):
            for name, value in values.items():
                setattr(known, name, value)
            return known
        try:
            with transaction.atomic():
                return rows.create(**key, **values, fetch_count=1)
        except IntegrityError:  # another worker stored it since our read
            rows.filter(**key).update(**values, fetch_count=counted)
            return rows.get(**key)


class GeocodeQuery(CachedAnswer):
    """What the geocoder answered for one normalised query; no places means "not found"."""

    query = models.CharField(max_length=100, unique=True)
    places: models.ManyToManyField[Place, GeocodeMatch] = models.ManyToManyField(
        Place, through="GeocodeMatch", related_name="queries"
    )

    class Meta:
        verbose_name = "geocoding query"
        verbose_name_plural = "geocoding queries"
        ordering = ["query"]

    def __str__(self) -> str:
        return self.query


class GeocodeMatch(models.Model):
    """One place in a geocoding answer, in the order the geocoder ranked it."""

    query = models.ForeignKey(GeocodeQuery, on_delete=models.CASCADE, related_name="matches")
    place = models.ForeignKey(Place, on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["rank"]
        constraints = [
            models.UniqueConstraint(fields=["query", "rank"], name="unique_match_rank"),
        ]

    def __str__(self) -> str:
        return f"#{self.rank} {self.place}"


class WeatherLookup(FetchedAnswer):
    """Current weather and forecast for a place in some units, valid until ``expires_at``."""

    place = models.ForeignKey(Place, on_delete=models.CASCADE, related_name="lookups")
    units = models.CharField(max_length=8, choices=Units.choices)
    payload = models.JSONField(help_text="Current conditions and the 3-hourly forecast")

    class Meta:
        ordering = ["-fetched_at"]
        constraints = [
            models.UniqueConstraint(fields=["place", "units"], name="unique_lookup_per_units"),
        ]

    def __str__(self) -> str:
        return f"{self.place.label} ({self.units})"


class AirQualityLookup(FetchedAnswer):
    """A place's current air quality (the same in every unit system), valid until
    ``expires_at``: one row per place."""

    place = models.OneToOneField(Place, on_delete=models.CASCADE, related_name="air_quality")
    payload = models.JSONField(help_text="The air quality index and the concentrations")

    class Meta:
        verbose_name = "air quality lookup"
        ordering = ["-fetched_at"]

    def __str__(self) -> str:
        return self.place.label


class Lease(ExpiringModel):
    """The right to refresh one cache key, held by one request in the whole fleet.

    Taken with an atomic insert or a conditional update (works the same on SQLite and
    PostgreSQL); it expires on its own, so a crashed refresher's hold lapses.
    """

    key = models.CharField(max_length=200, primary_key=True)
    holder = models.CharField(max_length=32)

    def __str__(self) -> str:
        return f"{self.key} until {self.expires_at:%H:%M:%S}"


class UpstreamUsage(models.Model):
    """Upstream calls made in one minute or one day (UTC), for the budget and the admin:
    the whole site's (``client`` empty) and each client's share."""

    class Window(models.TextChoices):
        MINUTE = "minute", "Minute"
        DAY = "day", "Day"

    window = models.CharField(max_length=6, choices=Window.choices)
    started_at = models.DateTimeField()
    client = models.CharField(
        max_length=64, blank=True, default="", help_text="Empty: the whole site's calls"
    )
    calls = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0, help_text="Calls refused: budget spent")

    class Meta:
        verbose_name_plural = "upstream usage"
        ordering = ["-started_at", "window"]
        constraints = [
            models.UniqueConstraint(
                fields=["window", "started_at", "client"], name="unique_usage_window_client"
            ),
        ]
        indexes = [models.Index(fields=["window", "-started_at"], name="usage_recent")]

    def __str__(self) -> str:
        return f"{self.window} from {self.started_at:%Y-%m-%d %H:%M}: {self.calls}"


class PlaceVisit(models.Model):
    """One visitor looked at a place's weather on one day (UTC): what makes it popular.

    The visitor is a keyed hash of their client address, never the address itself;
    one row per (place, visitor, day), however often they ask.
    """

    place = models.ForeignKey(Place, on_delete=models.CASCADE, related_name="visits")
    visitor = models.CharField(max_length=32)
    day = models.DateField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["place", "visitor", "day"], name="unique_visit"),
        ]

    def __str__(self) -> str:
        return f"{self.place} on {self.day}"
