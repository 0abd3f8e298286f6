"""What an OpenWeather answer means: its status as one of ``weather.errors``' tree
(``raise_for``, the one place a status becomes an error), and its body as the schema's
dataclass, or ``UpstreamUnavailable`` where the schema cannot use it (``parse_answer``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from weather.clients.schema import clean_text
from weather.errors import InvalidApiKey, PlaceNotFound, UpstreamRateLimited, UpstreamUnavailable


def status_of(body: Any, fallback: int) -> int:
    """Read OpenWeather's ``cod``, which is a number on some endpoints and a string on others."""
    if isinstance(body, dict) and "cod" in body:
        try:
            return int(str(body["cod"]).strip())
        except ValueError:
            return fallback
    return fallback


def _upstream_message(body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return clean_text(body["message"])
    return ""


def raise_for(status: int, body: Any) -> None:
    """Turn an upstream status into the error tree; return quietly on success."""
    if 200 <= status < 300:
        return
    detail = _upstream_message(body)
    suffix = f": {detail}" if detail else ""
    if status == 401:
        raise InvalidApiKey(f"OpenWeather rejected the API key (401){suffix}")
    if status == 404:
        raise PlaceNotFound(f"OpenWeather found no such place (404){suffix}")
    if status == 429:
        raise UpstreamRateLimited(f"OpenWeather rate limit reached (429){suffix}")
    raise UpstreamUnavailable(f"OpenWeather answered {status}{suffix}")


_Parsed = TypeVar("_Parsed")
# What the schema's parsers raise on an answer they cannot use.
PARSE_ERRORS = (KeyError, IndexError, TypeError, ValueError, AttributeError, ArithmeticError)


def parse_answer(parser: Callable[[Any], _Parsed], body: Any, what: str) -> _Parsed:
    """Parse ``body`` with ``parser``; raise UpstreamUnavailable when it is not the ``what``
    OpenWeather should have sent."""
    try:
        return parser(body)
    except PARSE_ERRORS as exc:
        # Nothing in a parse error can hold the key, so chaining is safe here.
        raise UpstreamUnavailable(f"OpenWeather sent an unexpected {what} payload") from exc
