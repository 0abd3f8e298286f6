"""The language of a page: its address's prefix, the home page's first-visit guidance,
the picker, right-to-left Arabic, local place names and per-language caches."""

from __future__ import annotations

import re
import timeit

import pytest
from django.http import HttpResponse

from tests.support.html import section_of
from weather.languages import (
    LANGUAGES,
    LanguageMiddleware,
    accepted_languages,
    language_from_path,
    path_in,
)

pytestmark = pytest.mark.django_db

GERMAN_BROWSER = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.8"}
THIS_SITE = {"Sec-Fetch-Site": "same-origin"}
ELSEWHERE = {"Sec-Fetch-Site": "cross-site"}


def vary(response) -> set[str]:
    return {part.strip().lower() for part in response.get("Vary", "").split(",") if part.strip()}


# --- the address decides --------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "language"),
    [("/", "en"), ("/de/", "de"), ("/ar/units", "ar"), ("/api/weather", "en"), ("/dex/", "en")],
)
def test_the_prefix_names_the_language(path, language):
    assert language_from_path(path) == language


def test_the_same_address_in_another_language_keeps_its_query():
    assert path_in("fr", "/de/?q=Berlin&units=metric") == "/fr/?q=Berlin&units=metric"
    assert path_in("en", "/ja/units?units=imperial") == "/units?units=imperial"
    assert path_in("ar", "/?q=Cairo") == "/ar/?q=Cairo"


@pytest.mark.parametrize("code", [code for code in LANGUAGES if code != "en"])
def test_a_prefixed_home_page_is_in_its_language(client, code):
    response = client.get(f"/{code}/")
    assert response.status_code == 200
    assert response["Content-Language"] == code
    assert f'<html lang="{code}"' in response.content.decode()


def test_german_words_on_the_german_home_page(client):
    html = client.get("/de/").content.decode()
    assert "Wie ist das Wetter?" in html
    assert "What’s the weather like?" not in html


def test_an_unprefixed_result_page_is_english_whatever_the_browser_prefers(
    client, stubbed_services
):
    response = client.get("/", {"q": "London"}, headers=GERMAN_BROWSER)
    assert response.status_code == 200
    assert response["Content-Language"] == "en"
    assert '<html lang="en"' in response.content.decode()
    assert "accept-language" not in vary(response)


def test_no_language_cookie_is_ever_set(client, stubbed_services):
    for path in ("/", "/de/", "/de/?q=London", "/ar/units?units=imperial"):
        response = client.get(path, headers={**GERMAN_BROWSER, **ELSEWHERE})
        assert not [name for name in response.cookies if "lang" in name.lower()], path


def test_the_api_and_probes_have_no_language_prefix(client):
    assert client.get("/de/healthz").status_code == 404
    assert client.get("/de/api/weather", {"q": "London"}).status_code == 404
    assert client.get("/healthz").status_code == 200


def test_an_unknown_language_prefix_is_not_found(client):
    assert client.get("/xx/").status_code == 404


def test_the_units_toggle_goes_back_to_the_page_in_its_language(client):
    response = client.get("/de/units", {"units": "imperial", "q": "Berlin"}, headers=THIS_SITE)
    assert response.status_code == 303
    assert response["Location"] == "/de/?q=Berlin&units=imperial"
    assert client.get("/fr/units", headers=THIS_SITE)["Location"] == "/fr/"


# --- the home page's first-visit guidance ------------------------------------------------


def test_a_first_visit_is_pointed_at_the_browser_s_language(client):
    response = client.get("/", headers={**GERMAN_BROWSER, **ELSEWHERE})
    assert response.status_code == 302
    assert response["Location"] == "/de/"
    assert {"accept-language", "sec-fetch-site", "cookie"} <= vary(response)
    assert "no-store" in response["Cache-Control"]
    assert not response.cookies


def test_an_older_browser_coming_from_elsewhere_is_guided_too(client):
    response = client.get("/", headers={"Accept-Language": "ja", "Referer": "https://x.example/"})
    assert response["Location"] == "/ja/"


def test_someone_who_picked_english_on_this_site_stays_in_english(client):
    response = client.get("/", headers={**GERMAN_BROWSER, **THIS_SITE})
    assert response.status_code == 200
    assert response["Content-Language"] == "en"
    assert {"accept-language", "sec-fetch-site", "cookie"} <= vary(response)
    assert "public" not in response.get("Cache-Control", "")  # depends on headers only


def test_an_english_home_decided_by_the_referer_is_kept_by_no_shared_cache(client):
    # An older browser (no Sec-Fetch-Site) coming back from one of this site's pages: the
    # Referer decided, and no cache varies on it.
    response = client.get(
        "/", headers={"Accept-Language": "fr", "Referer": "http://testserver/fr/"}
    )
    assert response.status_code == 200
    assert "private" in response["Cache-Control"]
    assert "public" not in response["Cache-Control"]


def test_an_english_browser_gets_the_english_home_page_that_caches_may_keep(client):
    response = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9,de;q=0.5"})
    assert response.status_code == 200
    assert {"accept-language", "sec-fetch-site", "cookie"} <= vary(response)
    assert "max-age=60" in response["Cache-Control"]


@pytest.mark.parametrize("query", [{"q": "London"}, {"lat": "51.5", "lon": "-0.12"}])
def test_result_pages_are_never_redirected(client, stubbed_services, query):
    response = client.get("/", query, headers={**GERMAN_BROWSER, **ELSEWHERE})
    assert response.status_code == 200
    assert "sec-fetch-site" not in vary(response)


def test_a_prefixed_home_page_varies_on_no_language_header(client):
    response = client.get("/de/", headers=GERMAN_BROWSER)
    assert "accept-language" not in vary(response)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("de-AT, en;q=0.8", ["de", "en"]),
        ("zh-CN, pt-BR;q=0.7, en;q=0.5", ["pt", "en"]),
        ("en;q=0.2, ar;q=0.9", ["ar", "en"]),
        ("fr;q=0, es", ["es"]),
        ("*, de;q=oops, ja;q=0.5", ["ja"]),
        ("", []),
    ],
)
def test_accepted_languages_in_order_of_preference(header, expected):
    assert accepted_languages(header) == expected


def test_a_huge_accept_language_header_is_cut_not_parsed_whole():
    assert accepted_languages("xx, " * 10_000 + "de") == []


def test_the_language_middleware_costs_microseconds(rf):
    """A cached page view costs about a millisecond: the middleware must be a small part."""
    middleware = LanguageMiddleware(lambda request: HttpResponse())
    request = rf.get("/de/", {"q": "Berlin"})
    seconds = min(timeit.repeat(lambda: middleware(request), number=1000, repeat=3)) / 1000
    assert seconds < 100e-6, f"{seconds * 1e6:.1f} µs per request"


# --- the picker, the head and the direction ---------------------------------------------


def picker_links(html: str) -> list[str]:
    nav = section_of(html, r'<nav class="language-picker".*?</nav>')
    return re.findall(r"<a [^>]*>[^<]*</a>", nav)


def test_the_picker_links_the_same_address_in_every_language(client, stubbed_services):
    html = client.get("/de/", {"q": "London", "units": "metric"}).content.decode()
    links = picker_links(html)
    assert len(links) == len(LANGUAGES) == 7
    assert '<a href="/?q=London&amp;units=metric" lang="en" hreflang="en">English</a>' in links
    assert (
        '<a href="/de/?q=London&amp;units=metric" lang="de" hreflang="de" aria-current="page">'
        "Deutsch</a>" in links
    )
    assert '<a href="/ar/?q=London&amp;units=metric" lang="ar" hreflang="ar">العربية</a>' in links
    assert sum("aria-current" in link for link in links) == 1
    head = section_of(html, r"<head>.*?</head>")
    # Absolute, as search engines require of alternates (Lighthouse's hreflang audit).
    assert (
        '<link rel="alternate" hreflang="fr" href="http://testserver/fr/?q=London&amp;units=metric">'
        in head
    )
    for code in LANGUAGES:
        assert f'<link rel="alternate" hreflang="{code}" href="http://testserver/' in head


def test_a_result_page_is_made_for_its_own_host(client, stubbed_services, settings):
    settings.ALLOWED_HOSTS = ["testserver", "weather.example.com"]
    client.get("/de/", {"q": "London"})  # fetched
    client.get("/de/", {"q": "London"})  # from the cache: this page is kept by the worker
    other = client.get("/de/", {"q": "London"}, HTTP_HOST="weather.example.com")
    assert 'href="http://weather.example.com/fr/?q=London"' in other.content.decode()


def test_arabic_pages_run_right_to_left_and_the_chart_left_to_right(client, stubbed_services):
    html = client.get("/ar/", {"q": "London"}).content.decode()
    assert '<html lang="ar" dir="rtl">' in html
    assert (
        'class="chart-scroll" tabindex="0" role="group" aria-labelledby="chart-caption" dir="ltr"'
        in html
    )
    assert '<html lang="de" dir="ltr">' in client.get("/de/").content.decode()


def test_conditions_days_and_words_in_the_page_s_language(client, stubbed_services):
    html = client.get("/de/", {"q": "London"}).content.decode()
    current = section_of(html, r'<section class="current".*?</section>')
    assert "Überwiegend bewölkt" in current  # "broken clouds", from its condition id
    assert "Broken clouds" not in html
    assert "Luftfeuchtigkeit" in current
    assert "5-Tage-Vorhersage" in html
    days = section_of(html, r'<ol class="days">.*?</ol>')
    assert re.search(r"<h3>(Mo|Di|Mi|Do|Fr|Sa|So), \d+\.", days)


def test_numbers_are_written_the_locale_s_way_but_addresses_and_the_chart_are_not(
    client, stubbed_services
):
    html = client.get("/de/", {"q": "London"}).content.decode()
    wind = section_of(html, r"<dt>Wind</dt><dd>[^<]*</dd>")
    assert re.search(r"\d,\d m/s", wind)  # a decimal comma
    svg = section_of(html, r"<svg class=\"chart-svg\".*?</svg>")
    assert not re.search(r'(x|y|width|height)="-?\d+,\d', svg)
    assert 'data-place-lat="51.5073"' in html


def test_place_names_in_the_page_s_language_when_the_geocoder_gave_them(client, stubbed_services):
    french = client.get("/fr/", {"q": "London"}).content.decode()
    assert '<h1 id="place-name">Londres' in french
    japanese = client.get("/ja/", {"q": "London"}).content.decode()
    assert '<h1 id="place-name">ロンドン' in japanese
    # No Arabic name among London's: the stored one.
    arabic = client.get("/ar/", {"q": "London"}).content.decode()
    assert '<h1 id="place-name">London' in arabic


def test_the_script_s_messages_come_in_the_page_s_language(client):
    html = client.get("/es/").content.decode()
    assert 'data-msg-locating="Buscando tu ubicación…"' in html
    assert 'data-msg-suggestions="Sugerencias: {count}. Usa las flechas para elegir."' in html


# --- caches: no language shares another's rendered part ------------------------------------


def test_each_language_has_its_own_page_etag_and_parts(client, stubbed_services):
    client.get("/", {"q": "London"})  # fetched: from now on served from the stored lookup
    english = client.get("/", {"q": "London"})
    german = client.get("/de/", {"q": "London"})
    assert english["ETag"] != german["ETag"]
    assert "Broken clouds" in english.content.decode()
    assert "Überwiegend bewölkt" in german.content.decode()
    # Asked again, each is what it was: neither cached part was taken for the other.
    assert client.get("/", {"q": "London"}).content == english.content
    assert client.get("/de/", {"q": "London"}).content == german.content


# --- the JSON API's lang ----------------------------------------------------------------


def test_the_api_adds_localised_words_beside_the_english_ones(client, stubbed_services):
    document = client.get("/api/weather", {"q": "London", "lang": "fr"}).json()
    assert document["lang"] == "fr"
    assert document["current"]["description"] == "broken clouds"
    assert document["current"]["description_localised"] == "nuageux"
    assert all("description_localised" in step for step in document["forecast"]["steps"])
    assert all("description_localised" in day for day in document["forecast"]["daily"])
    assert document["place"]["name"] == "London"
    assert document["place"]["name_localised"] == "Londres"


def test_without_lang_the_api_document_is_unchanged(client, stubbed_services):
    plain = client.get("/api/weather", {"q": "London"})
    text = plain.content.decode()
    assert "localised" not in text
    assert '"lang"' not in text
    assert "condition_id" not in str(plain.json()["forecast"]["daily"])


def test_each_lang_has_its_own_api_etag(client, stubbed_services):
    plain = client.get("/api/weather", {"q": "London"})
    german = client.get("/api/weather", {"q": "London", "lang": "de"})
    japanese = client.get("/api/weather", {"q": "London", "lang": "ja"})
    assert len({plain["ETag"], german["ETag"], japanese["ETag"]}) == 3
    assert german["Content-Language"] == "de"
    assert german.json()["current"]["description_localised"] == "überwiegend bewölkt"
    assert japanese.json()["current"]["description_localised"] == "曇りがち"


def test_an_empty_lang_is_no_lang(client, stubbed_services):
    response = client.get("/api/weather", {"q": "London", "lang": ""})
    assert response.status_code == 200
    assert "localised" not in response.content.decode()


@pytest.mark.parametrize("lang", ["xx", "de-DE", "EN", "de\x00"])
def test_an_unsupported_lang_is_invalid_input(client, stubbed_services, lang):
    response = client.get("/api/weather", {"q": "London", "lang": lang})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert error["message"].startswith("lang: ")
    assert list(error["fields"]) == ["lang"]
    assert stubbed_services.call_count == 0


def test_a_bad_lang_and_a_bad_query_are_both_named(client, stubbed_services):
    error = client.get("/api/weather", {"lat": "91", "lon": "0", "lang": "zz"}).json()["error"]
    assert set(error["fields"]) == {"lat", "lang"}


def test_english_pages_keep_the_geocoder_s_own_name(client, stubbed_services):
    from weather.models import Place

    client.get("/", {"q": "London"})
    Place.objects.update(local_names={"en": "Londinium", "fr": "Londres"})
    html = client.get("/", {"q": "London", "units": "imperial"}).content.decode()
    assert '<h1 id="place-name">London' in html
    assert "Londinium" not in html


def test_an_answer_kept_by_the_worker_is_served_only_at_its_own_language_s_address(
    client, stubbed_services, settings
):
    from weather import response_cache

    settings.WEATHER_MEMO_SECONDS = 60
    client.get("/", {"q": "London"})  # fetched
    client.get("/", {"q": "London"})  # from the stored lookup: kept
    before = response_cache.served_count()
    english = client.get("/", {"q": "London"})
    assert response_cache.served_count() == before + 1  # the kept English answer
    assert english["Content-Language"] == "en"
    german = client.get("/de/", {"q": "London"})
    assert response_cache.served_count() == before + 1  # not the English one
    assert german["Content-Language"] == "de"
    assert "Überwiegend bewölkt" in german.content.decode()
