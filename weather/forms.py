"""Validation of the search parameters shared by the page and the JSON API."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from weather.caching import BoundedCache
from weather.places import MAX_QUERY_LENGTH
from weather.units import Clock, Units, WindUnit


class ApiForm(forms.Form):
    """A form whose errors the JSON API reports in one sentence."""

    def error_summary(self) -> str:
        """One sentence naming each invalid field, for JSON error bodies."""
        parts = []
        for field, errors in self.errors.items():
            text = " ".join(str(e) for e in errors)
            parts.append(text if field == "__all__" else f"{field}: {text}")
        return " ".join(parts)


class WeatherQueryForm(ApiForm):
    """A place name (``q``) or a point (``lat`` and ``lon``), plus units, and optionally
    the wind unit and the clock (the visitor's remembered ones when not given)."""

    # The page renders its own <input> for q (combobox attributes, hints, errors).
    q = forms.CharField(label=_("Place"), required=False, max_length=MAX_QUERY_LENGTH)
    units = forms.ChoiceField(choices=Units.choices, required=False, initial=Units.METRIC)
    lat = forms.FloatField(min_value=-90, max_value=90, required=False, widget=forms.HiddenInput)
    lon = forms.FloatField(min_value=-180, max_value=180, required=False, widget=forms.HiddenInput)
    wind = forms.ChoiceField(choices=WindUnit.choices, required=False)
    clock = forms.ChoiceField(choices=Clock.choices, required=False)

    def clean_q(self) -> str:
        q: str = self.cleaned_data["q"]
        if q and not any(ch.isalnum() for ch in q):
            raise forms.ValidationError(_("Type a place name with letters or digits."))
        return q

    def clean_units(self) -> Units:
        return Units(self.cleaned_data["units"] or Units.METRIC)

    def clean_wind(self) -> WindUnit | None:
        return WindUnit(self.cleaned_data["wind"]) if self.cleaned_data["wind"] else None

    def clean_clock(self) -> Clock | None:
        return Clock(self.cleaned_data["clock"]) if self.cleaned_data["clock"] else None

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.errors:
            return data
        has_lat, has_lon = data.get("lat") is not None, data.get("lon") is not None
        if has_lat != has_lon:
            raise forms.ValidationError(_("Give both lat and lon, or neither."))
        if not data.get("q") and not has_lat:
            raise forms.ValidationError(_("Type a place name."), code="required")
        return data

    @property
    def is_point(self) -> bool:
        return self.cleaned_data.get("lat") is not None


@dataclass(frozen=True)
class WeatherQuery:
    """A valid search: a place name, or a point, and the units; the wind unit and the
    clock when the address names them."""

    q: str
    units: Units
    lat: float | None
    lon: float | None
    wind: WindUnit | None = None
    clock: Clock | None = None

    @property
    def is_point(self) -> bool:
        return self.lat is not None


_QUERY_FIELDS = tuple(WeatherQueryForm.base_fields)
# Building a form deep-copies its fields: a quarter of a cached view's time. A query
# valid once is valid again, so each process validates each distinct one once.
_valid_queries: BoundedCache[WeatherQuery] = BoundedCache(
    name="forms.valid_queries", max_entries=4096, max_bytes=4 * 2**20
)


def weather_query(data: Mapping[str, str]) -> WeatherQuery | WeatherQueryForm:
    """The valid search in ``data``, or the bound form that says what is wrong with it."""
    key = tuple((name, data[name]) for name in _QUERY_FIELDS if name in data)
    if (known := _valid_queries.get(key)) is not None:
        return known
    form = WeatherQueryForm(dict(key))
    if not form.is_valid():
        return form
    query = WeatherQuery(**{name: form.cleaned_data[name] for name in _QUERY_FIELDS})
    _valid_queries.put(key, query)
    return query


class LanguageForm(ApiForm):
    """The API's optional ``lang``: one of the site's languages, for localised words."""

    lang = forms.ChoiceField(choices=settings.LANGUAGES, required=False)


class PlaceSuggestionForm(forms.Form):
    """The text typed so far in the search box; anything invalid means "no suggestions"."""

    q = forms.CharField(required=True, max_length=MAX_QUERY_LENGTH, strip=True)
    # Ask the geocoder when no known place matches (the search box does this only once
    # the visitor pauses); without it, only places already known are suggested.
    lookup = forms.BooleanField(required=False)
