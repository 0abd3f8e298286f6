"""The dashboard in its seven languages, in a real browser: a search in each, the
picker (by keyboard too), and Arabic right to left without overflowing."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.e2e.conftest import screenshot

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# (prefix, language, place searched, its name as the page shows it, a word of the page)
SEARCHES = [
    ("", "en", "Zürich", "Zürich", "5-day forecast"),
    ("/de", "de", "Zürich", "Zürich", "5-Tage-Vorhersage"),
    ("/fr", "fr", "Paris", "Paris", "Prévisions sur 5 jours"),
    ("/es", "es", "New York", "Nueva York", "Pronóstico a 5 días"),
    ("/pt", "pt", "São Paulo", "São Paulo", "Previsão a 5 dias"),
    ("/ja", "ja", "Tokyo", "東京", "5日間の予報"),
    ("/ar", "ar", "Cape Town", "Cape Town", "توقعات 5 أيام"),
]


def search(page: Page, text: str) -> None:
    page.locator("#id_q").fill(text)
    page.locator("form.search button[type=submit]").click()


@pytest.mark.parametrize(("prefix", "code", "place", "shown", "words"), SEARCHES)
def test_a_search_in_each_language(page: Page, site, prefix, code, place, shown, words):
    page.goto(f"{prefix}/")
    expect(page.locator("html")).to_have_attribute("lang", code)
    search(page, place)

    expect(page).to_have_url(re.compile(rf"^{re.escape(site)}{prefix}/\?q="))
    expect(page.locator("html")).to_have_attribute("lang", code)
    expect(page.get_by_role("heading", level=1)).to_contain_text(shown)
    expect(page.locator("#forecast-title")).to_have_text(words)
    # The page's description is the API's localised one for the same place and language.
    api = requests.get(f"{site}/api/weather", params={"q": place, "lang": code}, timeout=10)
    localised = api.json()["current"]["description_localised"]
    expect(page.locator(".now .description")).to_have_text(localised[:1].upper() + localised[1:])
    # The script's "… ago" is in the page's language (Intl.RelativeTimeFormat of <html lang>).
    in_words = page.evaluate(
        "[0, -1].map((m) => new Intl.RelativeTimeFormat(document.documentElement.lang,"
        " {numeric: 'auto'}).format(m, 'minute'))"
    )
    expect(page.locator("time[data-relative]").first).to_have_text(
        re.compile("^(" + "|".join(map(re.escape, in_words)) + ")$")
    )
    if code != "en":
        english = page.evaluate("new Intl.RelativeTimeFormat('en').format(0, 'minute')")
        assert english not in in_words


def test_the_picker_takes_the_same_address_to_another_language(page: Page, site):
    page.goto("/de/?q=Z%C3%BCrich")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Zürich")
    current = page.locator(".language-picker a[aria-current=page]")
    expect(current).to_have_text("Deutsch")
    expect(current).to_have_attribute("lang", "de")

    page.get_by_role("link", name="Français").click()
    expect(page).to_have_url(f"{site}/fr/?q=Z%C3%BCrich")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Zurich")

    # By keyboard: focus the link and press Enter.
    page.get_by_role("link", name="Español").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{site}/es/?q=Z%C3%BCrich")
    expect(page.locator("html")).to_have_attribute("lang", "es")

    page.get_by_role("link", name="English").click()
    expect(page).to_have_url(f"{site}/?q=Z%C3%BCrich")
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_a_german_result_page(page: Page):
    page.goto("/de/")
    search(page, "Zürich")
    expect(page.locator(".updated")).to_contain_text("Aktualisiert")
    expect(page.locator(".days h3").first).to_have_text(
        re.compile(r"^(Mo|Di|Mi|Do|Fr|Sa|So), \d+\.")
    )
    page.get_by_role("button", name="Meinen Standort verwenden").click()
    expect(page.get_by_role("status").filter(has_text="abgelehnt")).to_have_text(
        "Sie haben die Standortfreigabe abgelehnt. Geben Sie stattdessen einen Ortsnamen ein."
    )
    screenshot(page, "result-de")


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_an_arabic_page_runs_right_to_left_without_overflowing(new_page, device):
    options = (
        {"viewport": {"width": 320, "height": 640}, "is_mobile": True, "has_touch": True}
        if device == "phone"
        else {}
    )
    page = new_page(**options)
    page.goto("/ar/?q=Cape%20Town")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Cape Town")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    # Mirrored: the brand starts at the right, the chart's time still runs left to right.
    brand = page.locator(".brand").bounding_box()
    header = page.locator(".site-header").bounding_box()
    assert brand is not None
    assert header is not None
    assert brand["x"] + brand["width"] > header["x"] + header["width"] / 2
    expect(page.locator(".chart-scroll")).to_have_attribute("dir", "ltr")
    if device == "desktop":
        screenshot(page, "result-ar")
