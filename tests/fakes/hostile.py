"""The hostile upstreams the fake OpenWeather can play, one of :data:`HOSTILE_MODES`.

JSON nested 100,000 deep, a body dripped one byte every 2 s, 300 MB bodies, absurd
coordinates, control characters or wrong types in every field, and error messages that echo
the key. Each mode is a function from the request to an :data:`Answer`; the fake
(:mod:`tests.fakes.openweather`) answers with it, and its server
(:mod:`tests.fakes.http_server`) sends it, streaming a :class:`Streamed` body piece by piece.
"""

from __future__ import annotations

import functools
import json
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode

from tests.fakes.bodies import ENDPOINTS, encoded
from tests.fakes.echoes import echo_forms

__all__ = [
    "ABSURD_LAT",
    "ABSURD_LON",
    "CONTROL_CHARACTERS",
    "HOSTILE_MODES",
    "NESTING_DEPTH",
    "OVERSIZED_BYTES",
    "Answer",
    "HostileMode",
    "Streamed",
    "Upstream",
]


@dataclass(frozen=True)
class Streamed:
    """A body written piece by piece, so that it never has to exist whole in memory.

    ``length`` is the Content-Length sent (None: chunked transfer encoding); ``pause`` is
    how long to wait before each piece.
    """

    pieces: Iterable[bytes]
    length: int | None
    pause: float = 0.0
    headers: tuple[tuple[str, str], ...] = ()


Answer = tuple[int, Any]  # (status, a JSON-able body, raw bytes or a Streamed body)


class Upstream(Protocol):
    """What a hostile mode asks of the fake server it plays in."""

    drip_interval: float  # seconds between the bytes of a "drip" answer

    def honest_answer(self, endpoint: str, query: dict[str, str]) -> Answer:
        """The answer with no fault in play: the key checked, the body built."""
        ...


NESTING_DEPTH = 100_000
OVERSIZED_BYTES = 300_000_000
ABSURD_LAT, ABSURD_LON = 12345.678, -999.0
# C0 and C1 controls, an ANSI escape and a line break (log and header injection).
CONTROL_CHARACTERS = "\x00\x01\x07\x08\x0b\x0c\x1b[2J\r\n\x7f\x85\x9b"
_PIECE_BYTES = 64 * 1024
_ENDPOINT_PATHS = {name: path for path, name in ENDPOINTS.items()}


def _padding_pieces(total: int, *, piece: int = _PIECE_BYTES) -> Iterator[bytes]:
    """``total`` bytes of one JSON object, ``{"cod":200,"padding":"   ...   "}``, lazily."""
    head, tail = b'{"cod":200,"padding":"', b'"}'
    yield head
    left = total - len(head) - len(tail)
    blank = b" " * piece
    while left > 0:
        yield blank[: min(piece, left)]
        left -= piece
    yield tail


@functools.cache
def _gzip_bomb() -> bytes:
    """:data:`OVERSIZED_BYTES` of JSON, gzipped to about 300 KB (made once, on first use)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: the gzip container
    packed = [packer.compress(piece) for piece in _padding_pieces(OVERSIZED_BYTES)]
    return b"".join([*packed, packer.flush()])


def _invented_place(q: str) -> dict[str, Any]:
    """A place for a name the dataset lacks, at coordinates that follow from the name."""
    name = q.split(",")[0].strip() or "Nowhere"
    h = zlib.crc32(q.casefold().encode())
    lat = round(-60 + (h % 120_000) / 1000, 4)
    lon = round(-170 + (h // 120_000 % 340_000) / 1000, 4)
    return {"name": name, "local_names": {"en": name}, "lat": lat, "lon": lon,
            "country": "ZZ", "state": "Nowhere"}  # fmt: skip


def _plausible(fake: Upstream, endpoint: str, query: dict[str, str]) -> Answer:
    """The honest answer, where a geocoding query that matches nothing gets an invented
    place: a hostile upstream answers whatever it is asked."""
    status, body = fake.honest_answer(endpoint, query)
    if endpoint == "geocode" and status == 200 and not body:
        body = [_invented_place(query.get("q", ""))]
    return status, body


def _nested(fake: Upstream, endpoint: str, query: dict[str, str]) -> Answer:
    return 200, b"[" * NESTING_DEPTH + b"]" * NESTING_DEPTH


def _drip(fake: Upstream, endpoint: str, query: dict[str, str]) -> Answer:
    status, body = _plausible(fake, endpoint, query)
    raw = body if isinstance(body, bytes) else encoded(body)
    pieces = (raw[i : i + 1] for i in range(len(raw)))
    return status, Streamed(pieces, len(raw), pause=fake.drip_interval)


def _oversized(fake: Upstream, endpoint: str, query: dict[str, str]) -> Answer:
    return 200, Streamed(_padding_pieces(OVERSIZED_BYTES), OVERSIZED_BYTES)


def _oversized_chunked(fake: Upstream, endpoint: str, query: dict[str, str]) -> Answer:
    return 200, Streamed(_padding_pieces(OVERSIZED_BYTES), None)


def _oversized_gzip(fake: Upstream, endpoint: str, query: dict[str, str]) -> Answer:
    bomb = _gzip_bomb()
    pieces = (bomb[i : i + _PIECE_BYTES] for i in range(0, len(bomb), _PIECE_BYTES))
    return 200, Streamed(pieces, len(bomb), headers=(("Content-Encoding", "gzip"),))


def _absurd_coordinates(fake: Upstream, endpoint: str, query: dict[str, str]) -> Answer:
    status, body = _plausible(fake, endpoint, query)
    if endpoint != "geocode" or status != 200:
        return status, body
    # Two impossible entries first, then the real ones: a careful client keeps only those.
    first = body[0]
    return status, [
        {**first, "lat": ABSURD_LAT, "lon": ABSURD_LON},
        {**first, "lat": 90.5, "lon": 180.5},
        *body,
    ]


def _poisoned(text: str) -> str:
    """``text`` with control characters at its ends and in its middle."""
    middle = len(text) // 2
    return f"\x00{text[:middle]}{CONTROL_CHARACTERS}{text[middle:]}\x07\r\n"


def _with_controls(value: Any, *, keys_too: bool = False) -> Any:
    if isinstance(value, str):
        return _poisoned(value)
    if isinstance(value, list):
        return [_with_controls(item) for item in value]
    if isinstance(value, dict):
        return {
            (_poisoned(k) if keys_too else k): _with_controls(v, keys_too=k == "local_names")
            for k, v in value.items()
        }
    return value


def _control_characters(fake: Upstream, endpoint: str, query: dict[str, str]) -> Answer:
    status, body = _plausible(fake, endpoint, query)
    return status, _with_controls(body) if status == 200 else body


class _WrongTypes:
    """Gives each field in turn a different wrong type; containers become the other kind."""

    def __init__(self) -> None:
        self.turn = 0

    def _next(self, choices: list[Any]) -> Any:
        self.turn += 1
        return choices[self.turn % len(choices)]

    def __call__(self, value: Any, depth: int = 0) -> Any:
        if isinstance(value, bool) or value is None:
            return self._next(["yes", None, 1])
        if isinstance(value, (int, float)):
            return self._next([f"about {value}", None, {"value": value}, [value], True])
        if isinstance(value, str):
            return self._next([None, 42, [value], {"text": value}, False])
        if isinstance(value, list):
            items = [self(item, depth + 1) for item in value]
            # The geocoding list and its entries stay as they are, so each field is reached.
            return items if depth == 0 else {str(i): item for i, item in enumerate(items)}
        if isinstance(value, dict):
            fields = {k: self(v, depth + 1) for k, v in value.items()}
            return fields if depth <= 1 else list(fields.values())
        return value


def _wrong_types(fake: Upstream, endpoint: str, query: dict[str, str]) -> Answer:
    status, body = _plausible(fake, endpoint, query)
    return status, _WrongTypes()(body) if status == 200 else body


def _key_echo_401(fake: Upstream, endpoint: str, query: dict[str, str]) -> Answer:
    appid = query.get("appid", "")
    message = f"Invalid API key {appid}. Please see https://openweathermap.org/faq#error401"
    return 401, {"cod": 401, "message": message, "appid": appid}


def _key_echo_500(fake: Upstream, endpoint: str, query: dict[str, str]) -> Answer:
    request = f"{_ENDPOINT_PATHS[endpoint]}?{urlencode(query)}"
    return 500, {"cod": "500", "message": f"Internal error serving {request}", "request": query}


def _far_dates(fake: Upstream, endpoint: str, query: dict[str, str]) -> Answer:
    status, body = _plausible(fake, endpoint, query)
    if endpoint != "forecast" or status != 200:
        return status, body
    steps = body["list"]
    first = steps[0]
    every_ten_minutes = [{**first, "dt": first["dt"] + 600 * i} for i in range(1, 2000)]
    dated = [{**first, "dt": 0}, *steps, *every_ten_minutes, {**first, "dt": 4_102_444_799}]
    return status, {**body, "list": dated, "cnt": len(dated)}


class _KeyEchoes:
    """Every string of the real answer replaced by the key, in one form after another
    (``tests.fakes.echoes``): JSON escapes, split by invisible characters, fullwidth..."""

    def __init__(self) -> None:
        self.turn = 0

    def _json(self, value: Any, forms: list[str]) -> str:
        if isinstance(value, str):
            self.turn += 1
            return forms[self.turn % len(forms)]
        if isinstance(value, list):
            return "[" + ",".join(self._json(item, forms) for item in value) + "]"
        if isinstance(value, dict):
            return (
                "{"
                + ",".join(f"{json.dumps(k)}:{self._json(v, forms)}" for k, v in value.items())
                + "}"
            )
        return json.dumps(value)

    def __call__(self, fake: Upstream, endpoint: str, query: dict[str, str]) -> Answer:
        status, body = _plausible(fake, endpoint, query)
        if status != 200:
            return status, body
        forms = list(echo_forms(query.get("appid", "")).values())
        return status, self._json(body, forms).encode()


@dataclass(frozen=True)
class HostileMode:
    """One way of being hostile: what it does, and how it answers a request."""

    description: str
    answer: Callable[[Upstream, str, dict[str, str]], Answer]
    status: int = 200  # what it answers with, as /__fake__/config reports it


# Every hostile mode, in one place: what it does and how it answers.
HOSTILE_MODES: dict[str, HostileMode] = {
    "nested": HostileMode(f"a 200 whose JSON nests {NESTING_DEPTH:,} arrays deep", _nested),
    "drip": HostileMode(
        "headers at once, then the real body one byte every `drip_interval` (2 s)", _drip
    ),
    "oversized": HostileMode(f"a 200 declaring and sending {OVERSIZED_BYTES:,} bytes", _oversized),
    "oversized-chunked": HostileMode(
        f"{OVERSIZED_BYTES:,} bytes sent chunked, with no length declared", _oversized_chunked
    ),
    "oversized-gzip": HostileMode(
        f"about 300 KB of gzip that inflates to {OVERSIZED_BYTES:,} bytes", _oversized_gzip
    ),
    "absurd-coordinates": HostileMode(
        f"geocoding entries at lat {ABSURD_LAT}, lon {ABSURD_LON} and at 90.5, 180.5 before"
        " the real ones; weather answers as usual",
        _absurd_coordinates,
    ),
    "control-characters": HostileMode(
        "NUL and other control characters in every string (and local-name language codes)",
        _control_characters,
    ),
    "wrong-types": HostileMode(
        "every field of the real answer with a wrong type: strings for numbers, objects for"
        " lists, lists for objects, null",
        _wrong_types,
    ),
    "key-echo-401": HostileMode(
        "a 401 whose message echoes the key it was sent", _key_echo_401, status=401
    ),
    "key-echo-500": HostileMode(
        "a 500 whose message echoes the request, key included", _key_echo_500, status=500
    ),
    "far-dates": HostileMode(
        "a forecast of 2,000 steps, ten minutes apart, with steps dated 1970 and 2100",
        _far_dates,
    ),
    "key-echo-encoded": HostileMode(
        "a 200 whose every string is the key, in a form that reads as the key once decoded"
        " and cleaned (JSON escapes, invisible characters between its letters, fullwidth)",
        _KeyEchoes(),
    ),
}
