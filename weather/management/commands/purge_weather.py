"""Delete cached data that can no longer be served: run it from cron like clearsessions."""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from weather import leases, popularity
from weather.budget import purge_before
from weather.models import AirQualityLookup, GeocodeQuery, Place, WeatherLookup
from weather.scrubbing import scrub_stored_text
from weather.vault.errors import VaultError
from weather.vault.keycache import api_keys


class Command(BaseCommand):
    help = (
        "Delete weather and air quality lookups too old to serve even as stale data, "
        "expired geocoding "
        "answers, places nothing refers to, lapsed refresh leases and usage rows older "
        "than a day (the site's daily totals are kept); clear expired sessions; put "
        "stored upstream text through today's cleaning and masking again."
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
        air, _ = (
            AirQualityLookup.objects.expired(now)
            .filter(fetched_at__lt=now - timedelta(seconds=settings.WEATHER_AIR_STALE_MAX))
            .delete()
        )
        # delete() also counts the cascaded GeocodeMatch rows: report queries only.
        _, by_model = GeocodeQuery.objects.expired(now).delete()
        queries = by_model.get(GeocodeQuery._meta.label, 0)
        # Places nothing refers to any more: no lookup, no geocoding answer.
        # An hour's grace: a place made by a request still in flight is not an orphan yet.
        # Their air quality goes with them (a cascade, not counted as places).
        _, by_model = Place.objects.filter(
            lookups__isnull=True, queries__isnull=True, created_at__lt=now - timedelta(hours=1)
        ).delete()
        orphans = by_model.get(Place._meta.label, 0)
        lapsed = leases.purge_expired()
        usage = purge_before(now - timedelta(days=1))
        old_visits = popularity.purge_before(now.date() - timedelta(days=popularity.WINDOW_DAYS))
        # Expired sessions (the admin's) go on the same schedule, as clearsessions would.
        import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
        try:
            api_keys().get()  # remembered, so that masking knows what to mask
        except VaultError as exc:
            self.stderr.write(f"Stored text not scrubbed: the key cannot be read ({exc.code})")
        else:
            scrubbed = scrub_stored_text()
            self.stdout.write(
                f"Scrubbed {scrubbed.places} places and deleted {scrubbed.lookups} lookups "
                "holding the key."
            )
        self.stdout.write(
            f"Deleted {lookups} lookups, {air} air quality lookups, {queries} geocoding "
            f"answers, {orphans} places, "
            f"{lapsed} lapsed leases, {usage} usage rows, {old_visits} visits; "
            "cleared expired sessions."
        )
