"""App configuration."""

from django.apps import AppConfig


class WeatherConfig(AppConfig):
    name = "weather"
    verbose_name = "Weather"

    def ready(self) -> None:
        from django.conf import settings

        from weather import sqlite_anchor  # noqa: F401 (its receiver holds SQLite files open)
        from weather.redaction import install_log_masking

        install_log_masking()
        if settings.SENTRY_DSN:
            from weather.error_tracking import start

            start(
                dsn=settings.SENTRY_DSN,
                environment=settings.SENTRY_ENVIRONMENT,
                release=settings.SENTRY_RELEASE,
            )
