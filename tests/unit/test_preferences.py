"""The wind unit and clock a visitor chooses: remembered only from this site's own
settings (``/units``), shown without remembering when the address names them, and
part of every page's ETag and Vary.

Vault and OpenWeather are stubbed at the HTTP transport (see conftest.py). London's
wind is 1.5 m/s from the south-east; its sunrise 07:51 and sunset 16:09 UTC (payloads.py).
"""

from __future__ import annotations

import pytest
from django.test import Client

from tests.support.html import section_of

pytestmark = pytest.mark.django_db

# What a browser sends when the visitor clicks something on this site's own pages.
THIS_SITE = {"Sec-Fetch-Site": "same-origin"}


def details(client: Client, **params: str) -> str:
    page = client.get("/", {"q": "London", **params})
    assert page.status_code == 200
    return section_of(page.content.decode(), r'<dl class="details">.*?</dl>')


def test_wind_and_clock_chosen_in_the_settings_are_remembered(client, stubbed_services):
    chosen = client.get("/units", {"q": "London", "wind": "kmh", "clock": "12h"}, headers=THIS_SITE)
    assert chosen.status_code == 303
    assert chosen["Location"] == "/?q=London&wind=kmh&clock=12h"
    assert chosen.cookies["weather_wind"].value == "kmh"
    assert chosen.cookies["weather_clock"].value == "12h"
    assert "private" in chosen["Cache-Control"]
    shown = details(client)  # no choice in the address: the remembered ones
    assert "5.4 km/h" in shown
    assert ">7:51 AM<" in shown
    assert ">4:09 PM<" in shown


def test_the_settings_show_the_remembered_choice(client, stubbed_services):
    client.get("/units", {"wind": "beaufort", "clock": "12h"}, headers=THIS_SITE)
    home = client.get("/").content.decode()
    settings_form = section_of(home, r'<form class="settings-form".*?</form>')
    assert '<option value="beaufort" selected>' in settings_form
    assert '<option value="12h" selected>' in settings_form
    assert "Force 1 SE · Light air" in details(client)


@pytest.mark.parametrize(
    "came_from",
    [{"Sec-Fetch-Site": "cross-site"}, {"Referer": "https://elsewhere.example/"}, {}],
    ids=["cross-site", "foreign referer", "nothing said"],
)
def test_a_choice_sent_from_elsewhere_is_not_remembered(client, stubbed_services, came_from):
    toggle = client.get("/units", {"wind": "knots", "clock": "12h"}, headers=came_from)
    assert toggle.status_code == 303
    assert "weather_wind" not in toggle.cookies
    assert "weather_clock" not in toggle.cookies
    assert "1.5 m/s" in details(client)
    assert ">07:51<" in details(client)


def test_the_address_shows_a_wind_unit_and_clock_without_remembering_them(client, stubbed_services):
    linked = client.get("/", {"q": "London", "wind": "knots", "clock": "12h"}, headers=THIS_SITE)
    assert linked.cookies == {}  # the dashboard never sets a cookie
    shown = section_of(linked.content.decode(), r'<dl class="details">.*?</dl>')
    assert "2.9 kn" in shown
    assert ">7:51 AM<" in shown
    assert "1.5 m/s" in details(client)
    assert ">07:51<" in details(client)


def test_a_choice_equal_to_what_is_shown_already_sets_no_cookie(client, stubbed_services):
    same = client.get("/units", {"wind": "ms", "clock": "24h"}, headers=THIS_SITE)
    assert same.cookies == {}


def test_without_a_choice_the_wind_follows_the_units(client, stubbed_services):
    assert "3.4 mph" in details(client, units="imperial")  # 1.5 m/s
    assert "1.5 m/s" in details(client, units="standard")
    client.get("/units", {"wind": "kmh"}, headers=THIS_SITE)
    assert "5.4 km/h" in details(client, units="imperial")  # a choice outlasts the units


def test_bad_cookie_values_are_ignored(client, stubbed_services):
    client.cookies["weather_wind"] = "furlongs"
    client.cookies["weather_clock"] = "13h"
    assert "1.5 m/s" in details(client)
    assert ">07:51<" in details(client)


@pytest.mark.parametrize(
    ("params", "message"),
    [({"wind": "furlongs"}, "Wind speed: Select a valid choice. furlongs is not one"),
     ({"clock": "13h"}, "Clock: Select a valid choice. 13h is not one")],
)  # fmt: skip
def test_an_unknown_wind_unit_or_clock_in_the_address_is_a_clear_400(
    client, stubbed_services, params, message
):
    page = client.get("/", {"q": "London", **params})
    assert page.status_code == 400
    assert message in page.content.decode()
    assert "no-store" in page["Cache-Control"]


@pytest.mark.parametrize(
    ("address", "varies"),
    [({"units": "metric", "wind": "ms", "clock": "24h"}, False),
     ({"units": "metric"}, True), ({"units": "metric", "wind": "kmh"}, True),
     ({"units": "metric", "clock": "12h"}, True), ({"wind": "kmh", "clock": "12h"}, True)],
)  # fmt: skip
def test_a_page_varies_on_cookie_unless_its_address_names_every_choice(
    client, stubbed_services, address, varies
):
    page = client.get("/", {"q": "London", **address})
    assert page.status_code == 200
    assert ("Cookie" in page.get("Vary", "")) is varies


@pytest.mark.parametrize(("cookie", "value"), [("weather_wind", "kmh"), ("weather_clock", "12h")])
def test_visitors_with_different_choices_never_share_an_etag_or_a_304(
    client, stubbed_services, cookie, value
):
    first = client.get("/", {"q": "London"})
    other = Client()
    other.cookies[cookie] = value
    theirs = other.get("/", {"q": "London"})
    assert theirs["ETag"] != first["ETag"]
    # The first visitor's validator is no good for the other one's page.
    again = other.get("/", {"q": "London"}, headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 200
    assert (
        other.get("/", {"q": "London"}, headers={"If-None-Match": theirs["ETag"]}).status_code
        == 304
    )
    assert again.content != first.content


def test_the_settings_keep_the_place_shown(client, stubbed_services):
    page = client.get("/", {"q": "London"}).content.decode()
    settings_form = section_of(page, r'<form class="settings-form".*?</form>')
    assert 'action="/units"' in settings_form
    assert '<input type="hidden" name="q" value="London">' in settings_form
    assert '<label for="settings-wind">' in settings_form
    assert '<label for="settings-clock">' in settings_form
