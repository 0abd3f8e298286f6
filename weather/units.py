"""The unit systems OpenWeather answers in: one type for the client, the models and the forms."""

from __future__ import annotations

from django.db import models


class Units(models.TextChoices):
    METRIC = "metric", "Metric (°C, m/s)"
    IMPERIAL = "imperial", "Imperial (°F, mph)"
    STANDARD = "standard", "Standard (K, m/s)"
