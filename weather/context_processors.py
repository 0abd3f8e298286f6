"""Template context shared by every page."""

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import get_language

from weather.languages import LanguageLink, is_rtl, language_links


def demo_mode(request: HttpRequest) -> dict[str, bool]:
    """Tell templates whether the data comes from the bundled fake upstream."""
    return {"demo_mode": settings.WEATHER_DEMO_MODE}


def languages(request: HttpRequest) -> dict[str, object]:
    """The page's language, its direction and the picker's links to the same address."""
    current = get_language()
    links: list[LanguageLink] = language_links(path=request.get_full_path(), current=current)
    return {
        "language_links": links,
        "text_direction": "rtl" if is_rtl(current) else "ltr",
        # hreflang alternates must be absolute addresses (search engines ignore others).
        "site_origin": f"{request.scheme}://{request.get_host()}",
    }
