"""The air quality section in a real browser: its index in words, and "unavailable" when
the upstream fails it (every test also fails on console errors, see conftest.py)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

WORDS = re.compile(r"^(Good|Fair|Moderate|Poor|Very Poor)$")


def test_the_page_shows_the_air_quality_index_in_words(page: Page):
    page.goto("/?q=Z%C3%BCrich")
    section = page.get_by_role("region", name="Air quality")
    expect(section).to_be_visible()
    expect(section.locator(".aqi-index")).to_have_text(re.compile(r"^[1-5]$"))
    expect(section.locator(".aqi-label")).to_have_text(WORDS)
    for symbol in ("PM2.5", "PM10", "O₃", "NO₂"):
        expect(section.get_by_text(symbol, exact=True)).to_be_visible()
    expect(section.locator("dd").first).to_contain_text("µg/m³")


def test_the_page_says_air_quality_is_unavailable_when_its_endpoint_fails(
    page: Page, fake_upstream
):
    fake_upstream.fail_endpoint("air_pollution", 503)
    page.goto("/?q=Krak%C3%B3w")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Kraków")
    expect(page.get_by_role("region", name="Air quality")).to_contain_text(
        "Air quality is unavailable right now."
    )
