"""What the dashboard remembers for one visitor: the units, wind unit and clock they
chose, each in a cookie.

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

from weather.units import Clock, Display, Units, WindUnit, default_wind

UNITS_COOKIE = "weather_units"
WIND_COOKIE = "weather_wind"
CLOCK_COOKIE = "weather_clock"
# Every cookie a page's body depends on: whole answers are kept per worker by their
# values (weather/response_cache.py), so a preference cookie missing here would let one
# visitor's page be served to another. No other cookie changes a public page.
PREFERENCE_COOKIES = (UNITS_COOKIE, WIND_COOKIE, CLOCK_COOKIE)
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
    return _remember(request, response, cookie=UNITS_COOKIE, value=units)


def preferred_wind(request: HttpRequest, *, units: Units) -> WindUnit:
    """The wind unit this visitor last chose; until they choose, the one ``units`` shows."""
    remembered = request.COOKIES.get(WIND_COOKIE, "")
    return WindUnit(remembered) if remembered in WindUnit.values else default_wind(units)


def remember_wind(
    request: HttpRequest, response: HttpResponseBase, *, wind: str, units: Units
) -> bool:
    """Keep ``wind`` as this visitor's choice, as ``remember_units`` keeps units; ``units``
    are those the page will show, whose wind unit needs no cookie until another is chosen."""
    if wind not in WindUnit.values or wind == preferred_wind(request, units=units):
        return False
    return _remember(request, response, cookie=WIND_COOKIE, value=wind)


def preferred_clock(request: HttpRequest) -> Clock:
    """The clock this visitor last chose, 24-hour until they choose."""
    remembered = request.COOKIES.get(CLOCK_COOKIE, "")
    return Clock(remembered) if remembered in Clock.values else Clock.H24


def remember_clock(request: HttpRequest, response: HttpResponseBase, *, clock: str) -> bool:
    """Keep ``clock`` as this visitor's choice, as ``remember_units`` keeps units."""
    if clock not in Clock.values or clock == preferred_clock(request):
        return False
    return _remember(request, response, cookie=CLOCK_COOKIE, value=clock)


def shown_display(request: HttpRequest, *, units: str) -> Display:
    """The wind unit and clock a page is shown in: those its address names, or else the
    visitor's remembered ones (an invalid one in the address is the search form's to
    report). ``units`` are the page's, whose wind unit applies until another is chosen."""
    shown_units = Units(units) if units in Units.values else Units.METRIC
    wind, clock = request.GET.get("wind", ""), request.GET.get("clock", "")
    return Display(
        wind=WindUnit(wind)
        if wind in WindUnit.values
        else preferred_wind(request, units=shown_units),
        clock=Clock(clock) if clock in Clock.values else preferred_clock(request),
    )


def _remember(request: HttpRequest, response: HttpResponseBase, *, cookie: str, value: str) -> bool:
    if not from_this_site(request):
        return False
    response.set_cookie(
        cookie,
        value,
        max_age=_A_YEAR,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return True


def from_this_site(request: HttpRequest) -> bool:
    """Whether the visitor came from one of this site's own pages."""
    # Browsers set Sec-Fetch-Site themselves, and no page can forge it; older ones send
    # at least the origin as the Referer on same-origin navigations.
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site == "same-origin"
    referer = urlsplit(request.headers.get("Referer", ""))
    return bool(referer.netloc) and referer.netloc == request.get_host()
