"""The language of a page: its address's prefix (``/de/?q=Berlin``), English without one.

Not Django's ``LocaleMiddleware``: for an unprefixed address it falls back to a cookie
and ``Accept-Language`` and adds ``Vary: Accept-Language`` to every answer, so an
English address could serve German and every shared cache would keep one copy per
header a browser sends. Here an address has one language, whoever asks for it; only
the bare home page looks at ``Accept-Language``, to point a first visit at the
visitor's own language (``guided_language``), and says so in its ``Vary``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect
from django.utils import translation
from django.utils.cache import add_never_cache_headers, patch_cache_control, patch_vary_headers

from weather.preferences import from_this_site

DEFAULT_LANGUAGE: str = settings.LANGUAGE_CODE
LANGUAGES: tuple[str, ...] = tuple(code for code, _ in settings.LANGUAGES)
RTL_LANGUAGES = frozenset({"ar"})
# "/de/" -> "de": one dictionary lookup per request finds the language.
_PREFIXES = {f"/{code}/": code for code in LANGUAGES if code != DEFAULT_LANGUAGE}
# Browsers send a few dozen characters; anything longer is cut, not parsed whole.
_ACCEPT_LANGUAGE_LIMIT = 500
HOME_VARY = ("Accept-Language", "Sec-Fetch-Site")


def language_from_path(path: str) -> str:
    """The language an address is in: its prefix's, or the default without one."""
    return _PREFIXES.get(path[:4], DEFAULT_LANGUAGE) if len(path) >= 4 else DEFAULT_LANGUAGE


def unprefixed(path: str) -> str:
    """``path`` without its language prefix: "/de/units" -> "/units"."""
    return path[3:] if path[:4] in _PREFIXES else path


def path_in(language: str, path: str) -> str:
    """The same address in ``language``: "/de/?q=Berlin" in "fr" -> "/fr/?q=Berlin"."""
    bare = unprefixed(path)
    return bare if language == DEFAULT_LANGUAGE else f"/{language}{bare}"


def is_rtl(language: str) -> bool:
    return language in RTL_LANGUAGES


@dataclass(frozen=True)
class LanguageLink:
    """One entry of the language picker: the same address in another language."""

    code: str
    name: str  # in its own language: "Deutsch", "العربية"
    href: str
    current: bool


# settings.LANGUAGES names each language in itself ("Deutsch"), as the picker shows it.
LOCAL_NAMES: dict[str, str] = {code: str(name) for code, name in settings.LANGUAGES}


def language_links(*, path: str, current: str) -> list[LanguageLink]:
    """The picker's links for the address ``path`` (with its query), current one marked."""
    return [
        LanguageLink(
            code=code, name=LOCAL_NAMES[code], href=path_in(code, path), current=code == current
        )
        for code in LANGUAGES
    ]


def accepted_languages(header: str) -> list[str]:
    """The supported languages an Accept-Language header names, most preferred first
    ("de-AT" counts as "de"; "*" and unknown languages are skipped)."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(header[:_ACCEPT_LANGUAGE_LIMIT].split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        code = tag.strip().lower().split("-")[0]
        if code in LANGUAGES and quality > 0:
            ranked.append((-quality, position, code))
    seen: list[str] = []
    for _, _, code in sorted(ranked):
        if code not in seen:
            seen.append(code)
    return seen


def guided_language(request: HttpRequest) -> str | None:
    """The language to point a first visit to the bare home page at: the visitor's most
    preferred supported one, when that is not English and they did not come from one of
    this site's pages (someone who picked English in the picker stays in English)."""
    accepted = accepted_languages(request.headers.get("Accept-Language", ""))
    if not accepted or accepted[0] == DEFAULT_LANGUAGE:
        return None
    if from_this_site(request):
        return None
    return accepted[0]


def _is_bare_home(request: HttpRequest) -> bool:
    return request.path_info == "/" and not request.META.get("QUERY_STRING")


class LanguageMiddleware:
    """Activate the language of the address (prefix, else English), answer the bare home
    page's first visit in another language with a redirect there, and say the answer's
    language in Content-Language. Sets no cookie and adds no Vary but the home page's."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        path = request.path_info
        language = language_from_path(path)
        home = language == DEFAULT_LANGUAGE and _is_bare_home(request)
        if home and request.method in ("GET", "HEAD"):
            guided = guided_language(request)
            if guided is not None:
                redirect = HttpResponseRedirect(path_in(guided, "/"))
                # Born of this visitor's headers (the Referer among them, which no
                # cache varies on): no cache keeps it.
                add_never_cache_headers(redirect)
                patch_vary_headers(redirect, ("Cookie", *HOME_VARY))
                redirect["Content-Language"] = DEFAULT_LANGUAGE
                return redirect
        translation.activate(language)
        request.LANGUAGE_CODE = language
        try:
            response = self.get_response(request)
        finally:
            translation.deactivate()
        if home:
            patch_vary_headers(response, HOME_VARY)
            if _decided_by_referer(request):
                # The English page went to someone Accept-Language would have guided,
                # because of a Referer no cache can vary on: theirs alone.
                patch_cache_control(response, private=True)
        if "Content-Language" not in response:
            response["Content-Language"] = language
        return response


def _decided_by_referer(request: HttpRequest) -> bool:
    """Whether the home page is English only because of the Referer (an older browser
    without Sec-Fetch-Site, coming from this site, whose Accept-Language prefers another
    supported language)."""
    if "Sec-Fetch-Site" in request.headers:
        return False
    accepted = accepted_languages(request.headers.get("Accept-Language", ""))
    return bool(accepted) and accepted[0] != DEFAULT_LANGUAGE
