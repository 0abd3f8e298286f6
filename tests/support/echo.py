"""A WSGI app that answers every request with the forwarding headers it received, as
JSON: what a proxy in front of it passed on."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

FORWARDING = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_HOST")


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    body = json.dumps({name: environ.get(name) for name in FORWARDING}).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
