"""App configuration."""

from django.apps import AppConfig


class WeatherConfig(AppConfig):
    name = "weather"
    verbose_name = "Weather"

    def ready(self) -> None:
        from weather.redaction import install_log_masking

        install_log_masking()
