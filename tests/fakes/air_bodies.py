"""What the fake OpenWeather answers on ``/data/2.5/air_pollution``, honest and hostile.

:func:`air_pollution` builds the honest body: the same point and hour always get the
same air (a few cities' typical levels, varied by place and hour), in OpenWeather's field
order. :data:`HOSTILE_AIR_BODIES` are the answers a broken or hostile upstream could send
instead, each one the client must refuse as malformed (``UpstreamUnavailable``).
"""

from __future__ import annotations

import hashlib
from typing import Any

__all__ = ["HOSTILE_AIR_BODIES", "air_pollution", "aqi_at", "hostile_air_body"]

# OpenWeather's index from PM2.5 alone (its documented bands, µg/m³): enough for a fake.
_PM25_BANDS = (10.0, 25.0, 50.0, 75.0)


def _unit(lat: float, lon: float, hour: int, what: str) -> float:
    """A number in [0, 1) fixed by the point (to 4 decimals), the hour and ``what``."""
    seed = f"{lat:.4f},{lon:.4f},{hour},{what}".encode()
    return int.from_bytes(hashlib.blake2b(seed, digest_size=4).digest(), "big") / 2**32


def aqi_at(pm2_5: float) -> int:
    return 1 + sum(pm2_5 >= band for band in _PM25_BANDS)


def air_pollution(lat: float, lon: float, now: float) -> dict[str, Any]:
    """Body of ``/data/2.5/air_pollution``: the current hour's air at the point."""
    dt = int(now) - int(now) % 3600  # modelled hourly
    hour = dt // 3600

    def level(what: str, low: float, high: float) -> float:
        return round(low + (high - low) * _unit(lat, lon, hour, what), 2)

    pm2_5 = level("pm2_5", 2.0, 60.0)
    return {
        "coord": {"lon": round(lon, 4), "lat": round(lat, 4)},
        "list": [
            {
                "main": {"aqi": aqi_at(pm2_5)},
                "components": {
                    "co": level("co", 150.0, 400.0),
                    "no": level("no", 0.0, 5.0),
                    "no2": level("no2", 1.0, 60.0),
                    "o3": level("o3", 20.0, 140.0),
                    "so2": level("so2", 0.2, 10.0),
                    "pm2_5": pm2_5,
                    "pm10": round(pm2_5 * 1.3, 2),
                    "nh3": level("nh3", 0.0, 10.0),
                },
                "dt": dt,
            }
        ],
    }


def _with(entry: dict[str, Any]) -> dict[str, Any]:
    return {"coord": {"lon": -0.1257, "lat": 51.5085}, "list": [entry]}


_GOOD_COMPONENTS = {"co": 201.8, "no": 0.1, "no2": 12.4, "o3": 68.0, "pm2_5": 8.4, "pm10": 11.9}
_GOOD = {"main": {"aqi": 2}, "components": _GOOD_COMPONENTS, "dt": 1_700_000_000}

# Bodies a careful client refuses, by what is wrong with them. NaN and Infinity are
# written as Python's json module writes them (which the reader refuses outright);
# "huge" is a number no air holds, and 1e400 one no float does.
HOSTILE_AIR_BODIES: dict[str, bytes | dict[str, Any] | list[Any]] = {
    "aqi-zero": _with({**_GOOD, "main": {"aqi": 0}}),
    "aqi-six": _with({**_GOOD, "main": {"aqi": 6}}),
    "aqi-float": _with({**_GOOD, "main": {"aqi": 2.5}}),
    "aqi-string": _with({**_GOOD, "main": {"aqi": "2"}}),
    "aqi-true": _with({**_GOOD, "main": {"aqi": True}}),
    "aqi-missing": _with({**_GOOD, "main": {}}),
    "pm-string": _with({**_GOOD, "components": {**_GOOD_COMPONENTS, "pm2_5": "8.4"}}),
    "pm-negative": _with({**_GOOD, "components": {**_GOOD_COMPONENTS, "pm10": -1}}),
    "pm-huge": _with({**_GOOD, "components": {**_GOOD_COMPONENTS, "pm2_5": 1e12}}),
    "o3-missing": _with({**_GOOD, "components": {"no2": 12.4, "pm2_5": 8.4, "pm10": 11.9}}),
    "co-null-is-left-out-but-no2-null-is-not": _with(
        {**_GOOD, "components": {**_GOOD_COMPONENTS, "no2": None}}
    ),
    "components-list": _with({**_GOOD, "components": list(_GOOD_COMPONENTS.values())}),
    "dt-1900": _with({**_GOOD, "dt": -2_208_988_800}),
    "dt-string": _with({**_GOOD, "dt": "yesterday"}),
    "list-missing": {"coord": {"lon": -0.1257, "lat": 51.5085}},
    "list-empty": {"coord": {"lon": -0.1257, "lat": 51.5085}, "list": []},
    "list-object": {"list": {"0": _GOOD}},
    "body-list": [_GOOD],
    "nan": b'{"list":[{"main":{"aqi":2},"components":{"pm2_5":NaN,"pm10":1,"o3":1,"no2":1},'
    b'"dt":1700000000}]}',
    "infinity": b'{"list":[{"main":{"aqi":2},"components":{"pm2_5":Infinity,"pm10":1,"o3":1,'
    b'"no2":1},"dt":1700000000}]}',
    "too-large-for-a-float": b'{"list":[{"main":{"aqi":2},"components":{"pm2_5":1'
    + b"0" * 400
    + b',"pm10":1,"o3":1,"no2":1},"dt":1700000000}]}',
}


def hostile_air_body(name: str, *, api_key: str) -> bytes | dict[str, Any] | list[Any]:
    """One of :data:`HOSTILE_AIR_BODIES`, or ``"key-echo"``: a body whose every value is
    the key it was sent (so it is refused, and must not carry the key anywhere)."""
    if name != "key-echo":
        return HOSTILE_AIR_BODIES[name]
    return {
        "message": f"air for appid={api_key}",
        **_with(
            {
                "main": {"aqi": api_key},
                "components": dict.fromkeys(_GOOD_COMPONENTS, api_key),
                "dt": api_key,
            }
        ),
    }
