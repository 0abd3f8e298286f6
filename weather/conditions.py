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

from django.utils.functional import Promise
from django.utils.translation import get_language, pgettext_lazy

from weather.languages import DEFAULT_LANGUAGE

# The context tells translators these are weather, not, say, a "shower" in a bathroom.
CONTEXT = "weather condition"

CONDITIONS: dict[int, Promise] = {
    # Thunderstorm
    200: pgettext_lazy(CONTEXT, "thunderstorm with light rain"),
    201: pgettext_lazy(CONTEXT, "thunderstorm with rain"),
    202: pgettext_lazy(CONTEXT, "thunderstorm with heavy rain"),
    210: pgettext_lazy(CONTEXT, "light thunderstorm"),
    211: pgettext_lazy(CONTEXT, "thunderstorm"),
    212: pgettext_lazy(CONTEXT, "heavy thunderstorm"),
    221: pgettext_lazy(CONTEXT, "ragged thunderstorm"),
    230: pgettext_lazy(CONTEXT, "thunderstorm with light drizzle"),
    231: pgettext_lazy(CONTEXT, "thunderstorm with drizzle"),
    232: pgettext_lazy(CONTEXT, "thunderstorm with heavy drizzle"),
    # Drizzle
    300: pgettext_lazy(CONTEXT, "light intensity drizzle"),
    301: pgettext_lazy(CONTEXT, "drizzle"),
    302: pgettext_lazy(CONTEXT, "heavy intensity drizzle"),
    310: pgettext_lazy(CONTEXT, "light intensity drizzle rain"),
    311: pgettext_lazy(CONTEXT, "drizzle rain"),
    312: pgettext_lazy(CONTEXT, "heavy intensity drizzle rain"),
    313: pgettext_lazy(CONTEXT, "shower rain and drizzle"),
    314: pgettext_lazy(CONTEXT, "heavy shower rain and drizzle"),
    321: pgettext_lazy(CONTEXT, "shower drizzle"),
    # Rain
    500: pgettext_lazy(CONTEXT, "light rain"),
    501: pgettext_lazy(CONTEXT, "moderate rain"),
    502: pgettext_lazy(CONTEXT, "heavy intensity rain"),
    503: pgettext_lazy(CONTEXT, "very heavy rain"),
    504: pgettext_lazy(CONTEXT, "extreme rain"),
    511: pgettext_lazy(CONTEXT, "freezing rain"),
    520: pgettext_lazy(CONTEXT, "light intensity shower rain"),
    521: pgettext_lazy(CONTEXT, "shower rain"),
    522: pgettext_lazy(CONTEXT, "heavy intensity shower rain"),
    531: pgettext_lazy(CONTEXT, "ragged shower rain"),
    # Snow
    600: pgettext_lazy(CONTEXT, "light snow"),
    601: pgettext_lazy(CONTEXT, "snow"),
    602: pgettext_lazy(CONTEXT, "heavy snow"),
    611: pgettext_lazy(CONTEXT, "sleet"),
    612: pgettext_lazy(CONTEXT, "light shower sleet"),
    613: pgettext_lazy(CONTEXT, "shower sleet"),
    615: pgettext_lazy(CONTEXT, "light rain and snow"),
    616: pgettext_lazy(CONTEXT, "rain and snow"),
    620: pgettext_lazy(CONTEXT, "light shower snow"),
    621: pgettext_lazy(CONTEXT, "shower snow"),
    622: pgettext_lazy(CONTEXT, "heavy shower snow"),
    # Atmosphere
    701: pgettext_lazy(CONTEXT, "mist"),
    711: pgettext_lazy(CONTEXT, "smoke"),
    721: pgettext_lazy(CONTEXT, "haze"),
    731: pgettext_lazy(CONTEXT, "sand/dust whirls"),
    741: pgettext_lazy(CONTEXT, "fog"),
    751: pgettext_lazy(CONTEXT, "sand"),
    761: pgettext_lazy(CONTEXT, "dust"),
    762: pgettext_lazy(CONTEXT, "volcanic ash"),
    771: pgettext_lazy(CONTEXT, "squalls"),
    781: pgettext_lazy(CONTEXT, "tornado"),
    # Clear and clouds
    800: pgettext_lazy(CONTEXT, "clear sky"),
    801: pgettext_lazy(CONTEXT, "few clouds"),
    802: pgettext_lazy(CONTEXT, "scattered clouds"),
    803: pgettext_lazy(CONTEXT, "broken clouds"),
    804: pgettext_lazy(CONTEXT, "overcast clouds"),
}


def describe(*, condition_id: int, description: str) -> str:
    """The condition in the active language; the upstream's ``description`` in English,
    and for an id OpenWeather does not document."""
    text = CONDITIONS.get(condition_id)
    if text is None or get_language() == DEFAULT_LANGUAGE:
        return description
    return str(text)
