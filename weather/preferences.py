"""What the dashboard remembers for one visitor: the units they chose, in a cookie.

Not in the session: a session is a database row, so reading it cost every page view
a query, and writing it gave every cookie-less visitor a new row. The units are a
plain cookie (nothing secret; checked against ``Units`` when read), set only when
the visitor picks units other than those remembered. Recent places live in the
visitor's own browser (``dashboard.js``, localStorage), so a result page's body
depends on its address alone and shared caches can keep it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from weather.units import Units

UNITS_COOKIE = "weather_units"
# Every cookie a page's body depends on: whole answers are kept per worker by their
# values (weather/response_cache.py), so a preference cookie missing here would let one
# visitor's page be served to another. No other cookie changes a public page.
PREFERENCE_COOKIES = (UNITS_COOKIE,)
_A_YEAR = 365 * 24 * 3600


def preferred_units(request: HttpRequest) -> Units:
    """The units this visitor last chose, metric until they choose."""
    remembered = request.COOKIES.get(UNITS_COOKIE, "")
    return Units(remembered) if remembered in Units.values else Units.METRIC


def cookie_state(request: HttpRequest) -> tuple[str, ...]:
    """The values of every preference cookie the request sends ("" for each it does not)."""
    cookies = request.COOKIES
    return tuple(cookies.get(name, "") for name in PREFERENCE_COOKIES)


def remember_units(request: HttpRequest, response: HttpResponseBase, units: str) -> bool:
    """Keep ``units`` as this visitor's choice, when they made it on this site (the
    toggle), not when another site linked here with ``units=``: that page is shown in
    those units, and nothing is remembered. Sets the cookie only on a change (True)."""
    if units not in Units.values or units == preferred_units(request):
        return False
    if not _from_this_site(request):
        return False
    response.set_cookie(
        UNITS_COOKIE,
        units,
        max_age=_A_YEAR,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return True


def _from_this_site(request: HttpRequest) -> bool:
    """Whether the visitor came from one of this site's own pages."""
    # Browsers set Sec-Fetch-Site themselves, and no page can forge it; older ones send
    # at least the origin as the Referer on same-origin navigations.
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site == "same-origin"
    referer = urlsplit(request.headers.get("Referer", ""))
    return bool(referer.netloc) and referer.netloc == request.get_host()
