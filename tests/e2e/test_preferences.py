"""Browser tests of what a visitor chooses and keeps: the wind unit and clock (remembered
by the server from the settings), and favourite places (kept by the browser).

Every test fails on any console error, uncaught exception, CSP violation or failed
request (see conftest.py).
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import screenshot

TWELVE_HOUR = re.compile(r"^\d{1,2}:\d\d [AP]M$")


def test_km_h_and_a_12_hour_clock_chosen_once_apply_to_the_next_page(page: Page):
    page.goto("/?q=London")
    wind = page.locator(".details div", has_text="Wind").locator("dd")
    expect(wind).to_contain_text("m/s")
    expect(page.locator(".details time").first).to_have_text(re.compile(r"^\d\d:\d\d$"))

    # With the keyboard: open the settings, choose, apply.
    page.locator("summary", has_text="Settings").focus()
    page.keyboard.press("Enter")
    page.get_by_label("Wind speed").select_option("kmh")
    page.get_by_label("Clock").select_option("12h")
    page.get_by_role("button", name="Apply").press("Enter")
    expect(wind).to_contain_text("km/h")
    expect(page.locator(".details time").first).to_have_text(TWELVE_HOUR)

    page.goto("/?q=Tokyo")  # nothing in the address: the remembered choices apply
    expect(page.get_by_role("heading", level=1)).to_contain_text("Tokyo")
    expect(wind).to_contain_text("km/h")
    expect(page.locator(".details time").first).to_have_text(TWELVE_HOUR)
    expect(page.locator(".chart-data tbody time").first).to_have_text(
        re.compile(r", \d{1,2}:\d\d [AP]M$")
    )
    expect(page.locator(".updated time")).to_be_attached()
    page.locator("summary", has_text="Settings").click()
    expect(page.get_by_label("Wind speed")).to_have_value("kmh")
    expect(page.get_by_label("Clock")).to_have_value("12h")
    screenshot(page, "settings-open")


def test_a_pinned_place_is_listed_first_and_can_be_unpinned(page: Page):
    page.goto("/?q=Sydney")
    page.goto("/?q=Mumbai")
    pin = page.get_by_role("button", name="Favourite")
    expect(pin).to_have_attribute("aria-pressed", "false")
    pin.click()
    expect(pin).to_have_attribute("aria-pressed", "true")
    status = page.locator("[data-favourites-status]")
    expect(status).to_have_attribute("aria-live", "polite")
    expect(status).to_have_text("Mumbai, Maharashtra, IN pinned")

    page.goto("/")
    favourites = page.get_by_role("navigation", name="Favourite places")
    expect(favourites.get_by_role("link")).to_have_text(["Mumbai, Maharashtra, IN"])
    # First of the quick links, before the recent and popular places.
    lists = page.locator(".quick-links > nav:not([hidden]) h2")
    expect(lists).to_have_text(["Favourite places", "Your recent places", "Popular places"])
    screenshot(page, "home-with-favourites")

    unpin = favourites.get_by_role("button", name="Unpin Mumbai, Maharashtra, IN")
    unpin.focus()
    page.keyboard.press("Enter")
    expect(status).to_have_text("Mumbai, Maharashtra, IN unpinned")
    expect(favourites).to_be_hidden()
    page.reload()
    expect(favourites).to_be_hidden()  # kept unpinned in this browser


def test_pinning_again_on_the_result_page_unpins(page: Page):
    page.goto("/?q=Sydney")
    pin = page.get_by_role("button", name="Favourite")
    pin.click()
    expect(pin).to_have_attribute("aria-pressed", "true")
    page.reload()
    expect(pin).to_have_attribute("aria-pressed", "true")  # remembered by the browser
    pin.press("Enter")
    expect(pin).to_have_attribute("aria-pressed", "false")
    expect(page.locator("[data-favourites-status]")).to_have_text(
        "Sydney, New South Wales, AU unpinned"
    )
