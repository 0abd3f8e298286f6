"""The dashboard's flows in a real browser: what a visitor does, and what they see.

Every test fails on any console error, uncaught exception, CSP violation or failed
request on any page it opened (see conftest.py).
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from playwright.sync_api import Page, Request, expect

from tests.e2e.conftest import screenshot
from weather.models import WeatherLookup

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def search(page: Page, text: str) -> None:
    page.get_by_label("Place", exact=True).fill(text)
    page.get_by_role("button", name="Search").click()


def test_search_shows_the_weather_and_the_forecast_chart(page: Page):
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("What’s the weather like?")
    search(page, "Zürich")

    expect(page).to_have_url(re.compile(r"\?q=Z%C3%BCrich$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Zürich")
    expect(page.locator(".temperature")).to_contain_text("°C")
    expect(page.get_by_role("img", name="Forecast chart")).to_be_visible()
    expect(page.locator(".days > li")).to_have_count(5)
    # The page says when; its script says how long ago ("this minute", "2 minutes ago").
    expect(page.locator("time[data-relative]").first).to_have_text(
        re.compile(r"minute|hour|now|ago")
    )
    screenshot(page, "result-desktop-light")
    # The chart's data is in a table too, for people who cannot see the chart.
    page.get_by_text("The forecast as a table").click()
    expect(page.locator(".chart-data tbody tr")).to_have_count(40)


def test_ambiguous_name_offers_the_others_and_picking_one_shows_it(page: Page):
    page.goto("/")
    search(page, "London")
    expect(page.get_by_role("heading", level=1)).to_contain_text("England")
    others = page.get_by_role("navigation", name="Not the place you meant?")
    expect(others.get_by_role("link")).to_have_text(["London, Ontario, CA", "London, Kentucky, US"])
    screenshot(page, "result-ambiguous")

    others.get_by_role("link", name="London, Kentucky, US").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Kentucky")
    expect(page).to_have_url(re.compile(r"lat=37\.129"))


def test_a_suggestion_is_chosen_with_the_keyboard(page: Page, fake_upstream):
    page.goto("/")
    box = page.get_by_role("combobox", name="Place")
    box.press_sequentially("Paris", delay=60)

    options = page.get_by_role("listbox").get_by_role("option")
    expect(options).to_have_count(2)
    expect(options).to_have_text(["ParisIle-de-France, FR", "ParisTexas, US"])
    expect(box).to_have_attribute("aria-expanded", "true")
    screenshot(page, "suggestions-open", full_page=False)

    box.press("ArrowDown")
    box.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", "suggestion-1")
    box.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_contain_text("Texas")
    # Debounced: one geocoding call for the whole word, not one per keystroke.
    assert fake_upstream.call_counts()["geocode"] <= 2


def test_typing_a_new_name_slowly_asks_the_geocoder_once(page: Page, fake_upstream):
    """A keystroke every 300 ms: slower than the debounce, so the known places are
    asked after each letter, but never a pause, so the geocoder only after the last."""
    page.goto("/")
    box = page.get_by_role("combobox", name="Place")
    box.press_sequentially("Springfield", delay=300)
    expect(page.get_by_role("listbox").get_by_role("option")).to_have_count(3)
    assert fake_upstream.call_counts()["geocode"] == 1


def test_escape_closes_the_suggestions_and_enter_then_searches(page: Page):
    page.goto("/")
    box = page.get_by_role("combobox", name="Place")
    box.press_sequentially("Springfield", delay=40)
    expect(page.get_by_role("listbox").get_by_role("option")).to_have_count(3)
    box.press("Escape")
    expect(page.get_by_role("listbox")).to_be_hidden()
    box.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Springfield")


def test_unknown_place_says_so(page: Page, watch):
    watch.expect_status("/?q=Atlantis", 404)
    page.goto("/")
    search(page, "Atlantis")
    expect(page.get_by_role("alert")).to_contain_text("No place called “Atlantis” was found")
    expect(page.get_by_label("Place", exact=True)).to_have_attribute("aria-invalid", "true")
    screenshot(page, "not-found")


def test_units_choice_persists_across_a_reload(page: Page):
    page.goto("/?q=London")
    expect(page.locator(".temperature .unit")).to_have_text("°C")

    page.get_by_role("button", name="°F").click()
    expect(page.locator(".temperature .unit")).to_have_text("°F")
    expect(page.get_by_role("button", name="°F")).to_have_attribute("aria-pressed", "true")

    page.goto("/?q=London")  # no units in the address: the remembered choice applies
    expect(page.locator(".temperature .unit")).to_have_text("°F")
    page.reload()
    expect(page.locator(".temperature .unit")).to_have_text("°F")
    search(page, "Tokyo")
    expect(page.locator(".temperature .unit")).to_have_text("°F")
    expect(page.locator(".days .high").first).to_contain_text("°F")


def test_stale_notice_when_the_upstream_is_failing(page: Page, fake_upstream):
    page.goto("/?q=Reykjav%C3%ADk")
    expect(page.locator(".banner-stale")).to_have_count(0)

    WeatherLookup.objects.expire_now()
    fake_upstream.fail(500)
    page.reload()

    notice = page.locator(".banner-stale")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("the weather service is not answering")
    expect(page.locator(".updated")).to_contain_text("out of date")
    screenshot(page, "stale")


def test_recent_and_popular_places_are_quick_links(page: Page):
    page.goto("/?q=Sydney")
    page.goto("/?q=Mumbai")
    page.goto("/")
    recents = page.get_by_role("navigation", name="Your recent places")
    expect(recents.get_by_role("link")).to_have_text(
        ["Mumbai, Maharashtra, IN", "Sydney, New South Wales, AU"]
    )
    popular = page.get_by_role("navigation", name="Popular places")
    expect(popular.get_by_role("link")).to_have_count(2)
    screenshot(page, "home-with-recents")

    recents.get_by_role("link", name="Sydney, New South Wales, AU").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Sydney")


@contextmanager
def another_site(link: str, text: str) -> Iterator[str]:
    """A page on another site (127.0.0.2, a different host from the dashboard's
    127.0.0.1) holding one link to ``link``; yields its address."""
    body = f'<!doctype html><title>Elsewhere</title><a href="{html.escape(link)}">{text}</a>'

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.2", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.2:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_a_link_from_another_site_is_shown_but_changes_nothing_remembered(page: Page, site):
    page.goto("/?q=Sydney")
    with another_site(f"{site}/?q=Mumbai&units=imperial", "Mumbai in Fahrenheit") as elsewhere:
        page.goto(elsewhere)
        page.get_by_role("link", name="Mumbai in Fahrenheit").click()
        # The linked page, in the linked units ...
        expect(page.get_by_role("heading", level=1)).to_contain_text("Mumbai")
        expect(page.locator(".temperature .unit")).to_have_text("°F")

    # ... but neither the place nor the units were remembered for this visitor.
    page.goto("/")
    recents = page.get_by_role("navigation", name="Your recent places")
    expect(recents.get_by_role("link")).to_have_text(["Sydney, New South Wales, AU"])
    page.goto("/?q=London")
    expect(page.locator(".temperature .unit")).to_have_text("°C")


def test_my_location_shows_the_weather_there(new_page):
    page = new_page(geolocation={"latitude": 35.68, "longitude": 139.76})
    page.context.grant_permissions(["geolocation"])
    page.goto("/")
    page.get_by_role("button", name="Use my location").click()
    expect(page).to_have_url(re.compile(r"lat=35\.68&lon=139\.76"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Tokyo")


def test_declining_location_says_so_clearly(page: Page):
    # A fresh context has no geolocation permission: headless Chromium declines for us.
    page.goto("/")
    page.get_by_role("button", name="Use my location").click()
    expect(page.get_by_role("status").filter(has_text="declined")).to_have_text(
        "You declined to share your location. Type a place name instead."
    )


def test_phone_layout_fits_320px_in_dark_mode(phone: Page):
    phone.goto("/?q=S%C3%A3o%20Paulo")
    expect(phone.get_by_role("heading", level=1)).to_contain_text("São Paulo")
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    background = phone.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(13, 19, 27)"  # the dark palette's --bg
    screenshot(phone, "result-phone-dark")
    screenshot(phone, "result-phone-dark-first-screen", full_page=False)


def test_search_works_without_javascript(new_page):
    page = new_page(java_script_enabled=False)
    page.goto("/")
    expect(page.get_by_role("button", name="Use my location")).to_be_hidden()
    search(page, "Cape Town")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Cape Town")
    expect(page.get_by_role("img", name="Forecast chart")).to_be_visible()
    page.get_by_role("button", name="°F").click()
    expect(page.locator(".temperature .unit")).to_have_text("°F")


def test_pages_send_the_security_headers(page: Page):
    response = page.goto("/")
    assert response is not None
    headers = response.headers
    policy = headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-frame-options"] == "DENY"


def test_every_kind_of_page_loads_cleanly_under_the_policy(page: Page, watch):
    pages = {
        "/": 200,
        "/?q=London": 200,
        "/?lat=42.9837&lon=-81.2496": 200,
        "/?q=Atlantis": 404,
        "/?q=%21%21%21": 400,
        "/admin/login/": 200,
    }
    for path, status in pages.items():
        if status != 200:
            watch.expect_status(path, status)
        response = page.goto(path)
        assert response is not None
        assert response.status == status, path
        expect(page).to_have_title(re.compile(r"\w"))
    # The checks that matter run when the page closes: no console error, no CSP violation.


def test_searching_cancels_a_pending_suggestion_lookup(page: Page, watch, fake_upstream):
    # A slow upstream keeps the old page up past the debounce delay.
    fake_upstream.latency = 0.5
    watch.expect_status("/?q=Atlantis", 404)
    asked: list[str] = []

    def note_suggestion_request(request: Request) -> None:
        if "/api/places" in request.url:
            asked.append(request.url)

    page.on("request", note_suggestion_request)
    page.goto("/")
    page.get_by_label("Place", exact=True).fill("Atlantis")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("alert")).to_contain_text("No place called “Atlantis” was found")
    assert asked == []


def test_visitors_arriving_together_all_get_answers(site, fake_upstream):
    # Typing, searching and reloading overlap on a real site: page loads and suggestion
    # lookups for the same name run at once and share the lease and cache tables.
    fake_upstream.latency = 0.2
    paths = ["/?q=Paris", "/api/places?q=Paris", "/?q=Paris&units=imperial"] * 3
    with ThreadPoolExecutor(max_workers=len(paths)) as pool:
        statuses = list(
            pool.map(lambda path: requests.get(site + path, timeout=30).status_code, paths)
        )
    assert statuses == [200] * len(paths)
