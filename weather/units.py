"""The unit systems OpenWeather answers in, and the wind units and clocks people read;
the choices the page offers of each."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class Units(models.TextChoices):
    METRIC = "metric", _("Metric (°C, m/s)")
    IMPERIAL = "imperial", _("Imperial (°F, mph)")
    STANDARD = "standard", _("Standard (K, m/s)")


class WindUnit(models.TextChoices):
    """How a visitor reads wind speed; converted from m/s (``conversions.wind_in``)."""

    KMH = "kmh", "km/h"
    MS = "ms", "m/s"
    MPH = "mph", "mph"
    KNOTS = "knots", "kn"
    BEAUFORT = "beaufort", "Beaufort"


class Clock(models.TextChoices):
    """How a visitor reads times of day."""

    H24 = "24h", _("24-hour")
    H12 = "12h", _("12-hour")


# The page's toggle offers the two scales people use; "standard" (K) stays in the API.
UNIT_CHOICES = ((Units.METRIC.value, "°C"), (Units.IMPERIAL.value, "°F"))
# The settings' choices, as people read them (the API's labels are in serializers.py).
WIND_CHOICES = (
    (WindUnit.KMH.value, _("km/h")),
    (WindUnit.MS.value, _("m/s")),
    (WindUnit.MPH.value, _("mph")),
    (WindUnit.KNOTS.value, _("knots")),
    (WindUnit.BEAUFORT.value, _("Beaufort")),
)
CLOCK_CHOICES = (
    (Clock.H24.value, _("24-hour")),
    (Clock.H12.value, _("12-hour")),
)


def default_wind(units: Units) -> WindUnit:
    """The wind unit of a visitor who never chose one: the one their units have always
    shown (mph for imperial, m/s otherwise), so addresses without ``wind=`` are unchanged."""
    return WindUnit.MPH if units == Units.IMPERIAL else WindUnit.MS


@dataclass(frozen=True)
class Display:
    """How one page shows speeds and times: part of the key of everything rendered for it."""

    wind: WindUnit
    clock: Clock
