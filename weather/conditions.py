"""OpenWeather's weather conditions by id, in every language the dashboard speaks.

Descriptions are translated here, from the condition id, rather than asked of the
upstream in each language (its ``lang=`` parameter): one fetch per place serves every
language, as one fetch serves every unit system (``conversions.py``). The ids and their
English descriptions are OpenWeather's own list,
https://openweathermap.org/weather-conditions (200-232 thunderstorm, 300-321 drizzle,
500-531 rain, 600-622 snow, 701-781 atmosphere, 800 clear, 801-804 clouds). An id the
list does not hold shows the upstream's own (cleaned) English description.
"""

from __future__ import annotations

from typing import Protocol

from django.utils.functional import Promise
from django.utils.translation import get_language, pgettext_lazy

from weather.languages import DEFAULT_LANGUAGE

# The context (a literal in each call, so that makemessages sees it) tells translators
# these are weather, not, say, a "shower" in a bathroom.
CONTEXT = "weather condition"

CONDITIONS: dict[int, Promise] = {
    # Thunderstorm
    200: pgettext_lazy("weather condition", "thunderstorm with light rain"),
    201: pgettext_lazy("weather condition", "thunderstorm with rain"),
    202: pgettext_lazy("weather condition", "thunderstorm with heavy rain"),
    210: pgettext_lazy("weather condition", "light thunderstorm"),
    211: pgettext_lazy("weather condition", "thunderstorm"),
    212: pgettext_lazy("weather condition", "heavy thunderstorm"),
    221: pgettext_lazy("weather condition", "ragged thunderstorm"),
    230: pgettext_lazy("weather condition", "thunderstorm with light drizzle"),
    231: pgettext_lazy("weather condition", "thunderstorm with drizzle"),
    232: pgettext_lazy("weather condition", "thunderstorm with heavy drizzle"),
    # Drizzle
    300: pgettext_lazy("weather condition", "light intensity drizzle"),
    301: pgettext_lazy("weather condition", "drizzle"),
    302: pgettext_lazy("weather condition", "heavy intensity drizzle"),
    310: pgettext_lazy("weather condition", "light intensity drizzle rain"),
    311: pgettext_lazy("weather condition", "drizzle rain"),
    312: pgettext_lazy("weather condition", "heavy intensity drizzle rain"),
    313: pgettext_lazy("weather condition", "shower rain and drizzle"),
    314: pgettext_lazy("weather condition", "heavy shower rain and drizzle"),
    321: pgettext_lazy("weather condition", "shower drizzle"),
    # Rain
    500: pgettext_lazy("weather condition", "light rain"),
    501: pgettext_lazy("weather condition", "moderate rain"),
    502: pgettext_lazy("weather condition", "heavy intensity rain"),
    503: pgettext_lazy("weather condition", "very heavy rain"),
    504: pgettext_lazy("weather condition", "extreme rain"),
    511: pgettext_lazy("weather condition", "freezing rain"),
    520: pgettext_lazy("weather condition", "light intensity shower rain"),
    521: pgettext_lazy("weather condition", "shower rain"),
    522: pgettext_lazy("weather condition", "heavy intensity shower rain"),
    531: pgettext_lazy("weather condition", "ragged shower rain"),
    # Snow
    600: pgettext_lazy("weather condition", "light snow"),
    601: pgettext_lazy("weather condition", "snow"),
    602: pgettext_lazy("weather condition", "heavy snow"),
    611: pgettext_lazy("weather condition", "sleet"),
    612: pgettext_lazy("weather condition", "light shower sleet"),
    613: pgettext_lazy("weather condition", "shower sleet"),
    615: pgettext_lazy("weather condition", "light rain and snow"),
    616: pgettext_lazy("weather condition", "rain and snow"),
    620: pgettext_lazy("weather condition", "light shower snow"),
    621: pgettext_lazy("weather condition", "shower snow"),
    622: pgettext_lazy("weather condition", "heavy shower snow"),
    # Atmosphere
    701: pgettext_lazy("weather condition", "mist"),
    711: pgettext_lazy("weather condition", "smoke"),
    721: pgettext_lazy("weather condition", "haze"),
    731: pgettext_lazy("weather condition", "sand/dust whirls"),
    741: pgettext_lazy("weather condition", "fog"),
    751: pgettext_lazy("weather condition", "sand"),
    761: pgettext_lazy("weather condition", "dust"),
    762: pgettext_lazy("weather condition", "volcanic ash"),
    771: pgettext_lazy("weather condition", "squalls"),
    781: pgettext_lazy("weather condition", "tornado"),
    # Clear and clouds
    800: pgettext_lazy("weather condition", "clear sky"),
    801: pgettext_lazy("weather condition", "few clouds"),
    802: pgettext_lazy("weather condition", "scattered clouds"),
    803: pgettext_lazy("weather condition", "broken clouds"),
    804: pgettext_lazy("weather condition", "overcast clouds"),
}


class Reading(Protocol):
    """Current conditions, a forecast step or a day: anything with OpenWeather's id and
    its English description."""

    @property
    def condition_id(self) -> int: ...

    @property
    def description(self) -> str: ...


def describe_reading(reading: Reading) -> str:
    """``reading``'s conditions in the active language."""
    return describe(condition_id=reading.condition_id, description=reading.description)


def describe(*, condition_id: int, description: str) -> str:
    """The condition in the active language; the upstream's ``description`` in English,
    and for an id OpenWeather does not document."""
    text = CONDITIONS.get(condition_id)
    if text is None or get_language() == DEFAULT_LANGUAGE:
        return description
    return str(text)
