"""Places, the geocoding cache and the cached weather lookups, each with its expiry as data."""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.utils import timezone


class Units(models.TextChoices):
    METRIC = "metric", "Metric (°C, m/s)"
    IMPERIAL = "imperial", "Imperial (°F, mph)"
    STANDARD = "standard", "Standard (K, m/s)"


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


class ExpiringQuerySet(models.QuerySet):
    def fresh(self, now: datetime | None = None) -> ExpiringQuerySet:
        return self.filter(expires_at__gt=now or timezone.now())

    def expired(self, now: datetime | None = None) -> ExpiringQuerySet:
        return self.filter(expires_at__lte=now or timezone.now())


class GeocodeQuery(models.Model):
    """What the geocoder answered for one normalised query; no places means "not found"."""

    query = models.CharField(max_length=100, unique=True)
    places = models.ManyToManyField(Place, through="GeocodeMatch", related_name="queries")
    fetched_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    hit_count = models.PositiveIntegerField(default=0)

    objects = ExpiringQuerySet.as_manager()

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


class WeatherLookup(models.Model):
    """Current weather and forecast for a place in some units, valid until ``expires_at``."""

    place = models.ForeignKey(Place, on_delete=models.CASCADE, related_name="lookups")
    units = models.CharField(max_length=8, choices=Units.choices)
    payload = models.JSONField(help_text="Current conditions and the 3-hourly forecast")
    fetched_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    hit_count = models.PositiveIntegerField(default=0, help_text="Requests served from cache")
    fetch_count = models.PositiveIntegerField(default=0, help_text="Upstream fetches")

    objects = ExpiringQuerySet.as_manager()

    class Meta:
        ordering = ["-fetched_at"]
        constraints = [
            models.UniqueConstraint(fields=["place", "units"], name="unique_lookup_per_units"),
        ]

    def __str__(self) -> str:
        return f"{self.place.label} ({self.units})"

    def is_fresh(self, now: datetime | None = None) -> bool:
        return self.expires_at > (now or timezone.now())
