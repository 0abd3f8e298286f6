"""The unit systems OpenWeather answers in: one type for the client, the models and the forms."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Units(models.TextChoices):
    METRIC = "metric", _("Metric (°C, m/s)")
    IMPERIAL = "imperial", _("Imperial (°F, mph)")
    STANDARD = "standard", _("Standard (K, m/s)")
