"""One stored lookup per place, in metric: the other unit systems are converted locally.

Lookups stored in imperial or standard units are converted to metric where the place
has no metric lookup, so no cached answer is lost; where it has one, they are dropped
(the metric one serves every unit system now).
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

from weather.conversions import to_metres_per_second, to_metric_celsius
from weather.units import Units

_TEMPERATURES = ("temp", "feels_like", "temp_min", "temp_max")


def _reading_in_metric(reading: Any, units: Units) -> Any:
    if not isinstance(reading, dict):
        return reading
    converted = dict(reading)
    for name in _TEMPERATURES:
        if isinstance(converted.get(name), (int, float)):
            converted[name] = to_metric_celsius(converted[name], units)
    if isinstance(converted.get("wind_speed"), (int, float)):
        converted["wind_speed"] = to_metres_per_second(converted["wind_speed"], units)
    return converted


def _payload_in_metric(payload: Any, units: Units) -> Any:
    """The payload in metric; an unreadable one is left as it is (it is refetched when read)."""
    if not isinstance(payload, dict):
        return payload
    converted = dict(payload)
    converted["current"] = _reading_in_metric(payload.get("current"), units)
    forecast = payload.get("forecast")
    if isinstance(forecast, dict) and isinstance(forecast.get("steps"), list):
        steps = [_reading_in_metric(step, units) for step in forecast["steps"]]
        converted["forecast"] = {**forecast, "steps": steps}
    return converted


def to_metric(apps: Any, schema_editor: Any) -> None:
    WeatherLookup = apps.get_model("weather", "WeatherLookup")
    with_metric = set(
        WeatherLookup.objects.filter(units=Units.METRIC).values_list("place_id", flat=True)
    )
    for lookup in WeatherLookup.objects.exclude(units=Units.METRIC).order_by("place_id", "pk"):
        if lookup.place_id in with_metric:
            lookup.delete()
            continue
        lookup.payload = _payload_in_metric(lookup.payload, Units(lookup.units))
        lookup.units = Units.METRIC
        lookup.save(update_fields=["payload", "units"])
        with_metric.add(lookup.place_id)


class Migration(migrations.Migration):
    dependencies = [("weather", "0005_place_visits")]

    # Backwards: metric lookups serve every unit system in the previous release too.
    operations = [migrations.RunPython(to_metric, migrations.RunPython.noop)]
