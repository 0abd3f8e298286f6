"""Loopback for the tests: free ports for their servers, distinct addresses for clients."""

from __future__ import annotations

import socket
import time
from typing import Any

import requests
from requests.adapters import HTTPAdapter


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class _FromAddress(HTTPAdapter):
    def __init__(self, address: str) -> None:
        self._address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self._address, 0)
        super().init_poolmanager(*args, **kwargs)


def session_from(address: str) -> requests.Session:
    """A session whose connections come from ``address`` (any of 127.0.0.0/8 is this
    machine), so a server sees each test client as a different peer."""
    session = requests.Session()
    session.mount("http://", _FromAddress(address))
    return session


def wait_for_a_fresh_minute(margin: float = 12) -> None:
    """Start a budget test early in a minute, so the whole burst falls in one window."""
    second = time.time() % 60
    if second > 60 - margin:
        time.sleep(60 - second + 0.5)
