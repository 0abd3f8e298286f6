"""Condition descriptions from OpenWeather's ids, translated here rather than upstream."""

from __future__ import annotations

from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils import translation

from weather.conditions import CONDITIONS, describe

TRANSLATED = [code for code, _ in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
# https://openweathermap.org/weather-conditions: every id the list documents.
DOCUMENTED = {
    *(200, 201, 202, 210, 211, 212, 221, 230, 231, 232),
    *(300, 301, 302, 310, 311, 312, 313, 314, 321),
    *(500, 501, 502, 503, 504, 511, 520, 521, 522, 531),
    *(600, 601, 602, 611, 612, 613, 615, 616, 620, 621, 622),
    *(701, 711, 721, 731, 741, 751, 761, 762, 771, 781),
    *(800, 801, 802, 803, 804),
}


def english(condition_id: int) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return str(CONDITIONS[condition_id])


def test_every_documented_id_is_held():
    assert set(CONDITIONS) == DOCUMENTED
    assert english(500) == "light rain"
    assert english(804) == "overcast clouds"


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_documented_id_is_translated_in_every_language(code):
    mo = polib.mofile(str(Path(settings.LOCALE_PATHS[0]) / code / "LC_MESSAGES" / "django.mo"))
    translated = {e.msgid: e.msgstr for e in mo if e.msgctxt == "weather condition" and e.msgstr}
    missing = [i for i in sorted(DOCUMENTED) if english(i) not in translated]
    assert missing == []


@pytest.mark.parametrize(
    ("code", "expected"),
    [("de", "leichter Regen"), ("fr", "pluie légère"), ("ja", "小雨"), ("ar", "مطر خفيف")],
)
def test_a_condition_in_the_active_language(code, expected):
    with translation.override(code):
        assert describe(condition_id=500, description="light rain") == expected


def test_english_shows_the_upstream_s_own_words():
    assert describe(condition_id=500, description="light rain, mostly") == "light rain, mostly"


def test_an_undocumented_id_falls_back_to_the_upstream_s_description():
    with translation.override("de"):
        assert describe(condition_id=999, description="purple haze") == "purple haze"
