"""Delete cached data that can no longer be served: run it from cron like clearsessions."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from weather import leases
from weather.budget import purge_minutes_before
from weather.models import GeocodeQuery, WeatherLookup


class Command(BaseCommand):
    help = (
        "Delete weather lookups too old to serve even as stale data, expired geocoding "
        "answers, lapsed refresh leases and per-minute usage rows older than a day."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--stale-max",
            type=float,
            default=None,
            help="Seconds a lookup stays servable as stale (default: WEATHER_STALE_MAX).",
        )

    def handle(self, *args: object, stale_max: float | None, **options: object) -> None:
        stale_max = settings.WEATHER_STALE_MAX if stale_max is None else stale_max
        if stale_max < 0:
            raise CommandError("--stale-max must be zero or more seconds")
        now = timezone.now()
        lookups, _ = (
            WeatherLookup.objects.expired(now)
            .filter(fetched_at__lt=now - timedelta(seconds=stale_max))
            .delete()
        )
        # delete() also counts the cascaded GeocodeMatch rows: report queries only.
        _, by_model = GeocodeQuery.objects.expired(now).delete()
        queries = by_model.get(GeocodeQuery._meta.label, 0)
        lapsed = leases.purge_expired()
        minutes = purge_minutes_before(now - timedelta(days=1))
        self.stdout.write(
            f"Deleted {lookups} lookups, {queries} geocoding answers, "
            f"{lapsed} lapsed leases, {minutes} per-minute usage rows."
        )
