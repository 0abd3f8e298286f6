"""A shared cache in front of the app keeps only what was meant for every visitor.

Run against two caches: a bare one, as a CDN would be, and the stack's own nginx
(docker/nginx/weather.conf, which keeps a short-lived cache).

Debian's nginx with ``proxy_cache`` sits in front of gunicorn and honours the app's own
headers and nothing else (no ``proxy_cache_valid``, no ignored header), as a CDN does:
it stores what the app marks cacheable, never an answer that sets a cookie, and keys
variants on ``Vary``. Visitors come from distinct loopback addresses, so the app (which
trusts only the proxy) tells them apart. Whatever one visitor did first, the next must
get an answer meant for everyone, and no preference may be lost.
Run by `make proxy-check`, which provides nginx.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests

from tests.fakes.openweather import FakeOpenWeather
from tests.support.appserver import AppServer
from tests.support.network import free_port, session_from
from tests.support.nginx import Nginx, StackProxy

pytestmark = pytest.mark.timeout(300)

SAME_SITE = {"Sec-Fetch-Site": "same-origin"}
CACHE_TTL = 3  # seconds: short, so a case can wait for a lookup (and its cached copy) to expire


class CachingProxy(Nginx):
    """nginx with a shared cache that obeys the app's Cache-Control, Vary and Set-Cookie."""

    def __init__(self, upstream: str) -> None:
        port = free_port()
        super().__init__(
            f"""
    proxy_cache_path {{root}}/cache levels=1:2 keys_zone=shared:1m max_size=50m;
    upstream app {{ server {upstream}; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://app;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_cache shared;
            proxy_cache_key $scheme$host$request_uri;
            add_header X-Cache-Status $upstream_cache_status always;
        }}
    }}
""",
            port=port,
        )


@dataclass
class Site:
    proxy: Nginx
    fake: FakeOpenWeather

    def visitor(self, number: int) -> Visitor:
        return Visitor(self, session_from(f"127.0.0.{10 + number}"))


class Visitor:
    def __init__(self, site: Site, session: requests.Session) -> None:
        self.site = site
        self.session = session

    def get(self, path: str, **kwargs: object) -> requests.Response:
        kwargs.setdefault("allow_redirects", False)
        return self.session.get(f"{self.site.proxy.base_url}{path}", timeout=15, **kwargs)  # type: ignore[arg-type]


PROXIES = {"a CDN's cache": CachingProxy, "the stack's own nginx": StackProxy}


@pytest.fixture(params=list(PROXIES))
def site(request, server_env, fake_upstream) -> Iterator[Site]:
    """The app behind a shared cache: a bare one obeying the app's headers, as a CDN
    would, and docker/nginx/weather.conf as it ships (its own short-lived cache)."""
    env = {
        **server_env,
        "WEATHER_CACHE_TTL": str(CACHE_TTL),
        "WEATHER_MEMO_SECONDS": "0",
        "WEATHER_TRUSTED_PROXIES": "127.0.0.1/32",
        # A cold search's four calls (geocoding, weather, forecast, air), no more.
        "WEATHER_CLIENT_BUDGET_PER_MINUTE": "4",
        "WEATHER_CLIENT_BUDGET_PER_DAY": "100",
    }
    with (
        AppServer(env=env, workers=2) as server,
        PROXIES[request.param](f"127.0.0.1:{server.port}") as proxy,
    ):
        yield Site(proxy, fake_upstream)


def test_one_client_s_spent_share_does_not_empty_the_suggestions_for_everyone(site):
    spender, other = site.visitor(1), site.visitor(2)
    for name in ("Sydney", "Mumbai", "Tokyo", "Cape Town"):  # four new names: the share spent
        assert spender.get("/api/places", params={"q": name, "lookup": "1"}).json()["places"]
    refused = spender.get("/api/places", params={"q": "Kraków", "lookup": "1"})
    assert refused.json() == {"places": []}
    assert "no-store" in refused.headers["Cache-Control"]
    answered = other.get("/api/places", params={"q": "Kraków", "lookup": "1"})
    assert answered.headers["X-Cache-Status"] != "HIT"
    assert [p["name"] for p in answered.json()["places"]] == ["Kraków"]


def test_a_failure_is_not_kept_for_the_next_visitor_once_the_upstream_recovers(site):
    first, second = site.visitor(1), site.visitor(2)
    site.fake.fail(500)
    failed = first.get("/", params={"q": "Reykjavík"})
    assert failed.status_code == 503
    failed_api = first.get("/api/weather", params={"q": "Reykjavík"})
    assert failed_api.status_code == 503
    site.fake.clear_faults()
    page = second.get("/", params={"q": "Reykjavík"})
    api = second.get("/api/weather", params={"q": "Reykjavík"})
    assert (page.status_code, api.status_code) == (200, 200)
    assert page.headers["X-Cache-Status"] != "HIT"
    assert api.json()["source"] != "stale"
    # A fresh answer is meant for everyone: now the cache may keep and share it.
    assert second.get("/api/weather", params={"q": "Reykjavík"}).headers["X-Cache-Status"] == "HIT"


def test_a_stale_copy_is_not_kept_once_the_upstream_recovers(site):
    first, second = site.visitor(1), site.visitor(2)
    assert first.get("/api/weather", params={"q": "Zürich", "units": "imperial"}).ok
    time.sleep(CACHE_TTL + 0.5)  # the lookup has expired, and the cache's copy with it
    site.fake.fail(503)
    stale = first.get("/api/weather", params={"q": "Zürich", "units": "imperial"})
    assert stale.json()["source"] == "stale"
    assert "no-store" in stale.headers["Cache-Control"]
    site.fake.clear_faults()
    fresh = second.get("/api/weather", params={"q": "Zürich", "units": "imperial"})
    assert fresh.json()["source"] == "upstream"


def test_each_visitor_sees_the_units_of_their_own_cookie(site):
    fahrenheit, celsius = site.visitor(1), site.visitor(2)
    fahrenheit.session.cookies.set("weather_units", "imperial")
    assert "°F" in fahrenheit.get("/", params={"q": "Tokyo"}).text
    page = celsius.get("/", params={"q": "Tokyo"})
    assert "°C" in page.text
    assert "°F</span>" not in page.text


def test_a_toggle_someone_else_fetched_first_still_remembers_the_choice(site):
    stranger, visitor = site.visitor(1), site.visitor(2)
    linked = stranger.get("/units", params={"q": "Sydney", "units": "imperial"})
    assert linked.status_code == 303
    assert "weather_units" not in linked.cookies  # not chosen on this site
    mine = visitor.get("/units", params={"q": "Sydney", "units": "imperial"}, headers=SAME_SITE)
    assert mine.headers["X-Cache-Status"] != "HIT"
    assert mine.cookies.get("weather_units") == "imperial"
    # The cookie is Secure (production settings): a browser sends it back over HTTPS,
    # which this loopback test does not speak, so it is handed back by hand.
    visitor.session.cookies.set("weather_units", mine.cookies["weather_units"])
    later = visitor.get("/", params={"q": "Sydney"})
    assert '<span class="unit">°F</span>' in later.text


def test_the_admin_and_error_pages_are_never_shared(site):
    first, second = site.visitor(1), site.visitor(2)
    for visitor in (first, second):
        login = visitor.get("/admin/login/")
        assert login.status_code == 200
        assert login.headers["X-Cache-Status"] != "HIT"
        assert "csrftoken" in login.cookies  # each visitor gets a token of their own
    for path, params in (("/", {"q": "Atlantis"}), ("/api/weather", {"lat": "1"})):
        for visitor in (first, second):
            answer = visitor.get(path, params=params)
            assert answer.status_code in (400, 404)
            assert answer.headers["X-Cache-Status"] != "HIT"


def html_lang(response: requests.Response) -> str:
    start = response.text.index('<html lang="') + len('<html lang="')
    return response.text[start : response.text.index('"', start)]


def test_an_address_is_in_its_own_language_whoever_asked_for_it_first(site):
    german, other = site.visitor(1), site.visitor(2)
    german_browser = {"Accept-Language": "de-DE,de;q=0.9"}
    # A first search spends a share of four calls (geocoding, weather, forecast, air); a
    # visitor of its own fetches it, so that the pages below are whole and cacheable.
    assert site.visitor(3).get("/api/weather", params={"q": "Tokyo"}).ok
    first = german.get("/de/", params={"q": "Tokyo"}, headers=german_browser)
    assert (first.status_code, html_lang(first)) == (200, "de")
    assert german.get("/de/", params={"q": "Tokyo"}).headers["X-Cache-Status"] == "HIT"
    # The same place at the English address, asked for with a German browser: English,
    # the address's language, and not the German copy the cache holds.
    english = other.get("/", params={"q": "Tokyo"}, headers=german_browser)
    assert (english.status_code, html_lang(english)) == (200, "en")
    assert english.headers["Content-Language"] == "en"
    assert html_lang(other.get("/fr/", params={"q": "Tokyo"})) == "fr"
    assert html_lang(german.get("/", params={"q": "Tokyo"})) == "en"
    assert html_lang(german.get("/de/", params={"q": "Tokyo"})) == "de"


def test_the_home_page_guides_each_browser_to_its_own_language_through_the_cache(site):
    english, german, japanese = site.visitor(1), site.visitor(2), site.visitor(3)
    elsewhere = {"Sec-Fetch-Site": "none"}
    first = english.get("/", headers={"Accept-Language": "en-GB,en;q=0.9", **elsewhere})
    assert (first.status_code, html_lang(first)) == (200, "en")
    again = english.get("/", headers={"Accept-Language": "en-GB,en;q=0.9", **elsewhere})
    assert (again.status_code, html_lang(again)) == (200, "en")
    # A German browser arriving from elsewhere is pointed at German, not handed the
    # English page the cache keeps; the pointer itself is kept by no cache.
    guided = german.get("/", headers={"Accept-Language": "de", **elsewhere})
    assert (guided.status_code, guided.headers["Location"]) == (302, "/de/")
    assert "no-store" in guided.headers["Cache-Control"]
    assert (
        japanese.get("/", headers={"Accept-Language": "ja", **elsewhere}).headers["Location"]
        == "/ja/"
    )
    # The German visitor who then picks English in the picker stays in English.
    chose = german.get("/", headers={"Accept-Language": "de", **SAME_SITE})
    assert (chose.status_code, html_lang(chose)) == (200, "en")
    # And the English visitor is never redirected by what the others were sent.
    last = english.get("/", headers={"Accept-Language": "en-GB,en;q=0.9", **elsewhere})
    assert (last.status_code, html_lang(last)) == (200, "en")
    assert html_lang(german.get("/de/", headers={"Accept-Language": "de"})) == "de"
