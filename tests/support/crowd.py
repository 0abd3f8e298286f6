"""A crowd of HTTP clients released at the same instant, for the concurrency tests."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests


def hammer(base_url: str, urls: list[str], *, clients: int) -> Counter[int]:
    """Send every URL once from ``clients`` threads released at the same instant."""
    start = threading.Barrier(clients)
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def client(index: int) -> None:
        session = requests.Session()
        start.wait()
        for url in urls[index::clients]:
            response = session.get(base_url + url, timeout=60)
            body_ok = response.headers["Content-Type"].startswith("application/json")
            with lock:
                statuses[response.status_code if body_ok else -1] += 1

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    return statuses
