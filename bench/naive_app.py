"""The original example's behaviour, for contrast: one upstream call on every request.

A one-route WSGI app that asks the upstream for the current weather each time it
is hit, with no cache, as the Flask example this project replaces did.
"""

from __future__ import annotations

import json
import os

import requests

UPSTREAM = os.environ["NAIVE_UPSTREAM"]
KEY = os.environ["NAIVE_KEY"]
session = requests.Session()


def application(environ, start_response):
    response = session.get(
        f"{UPSTREAM}/data/2.5/weather",
        params={"lat": "51.5073", "lon": "-0.1276", "units": "metric", "appid": KEY},
        timeout=10,
    )
    body = json.dumps({"temp": response.json()["main"]["temp"]}).encode()
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]
