"""Clients that trickle their request headers (slowloris), and a /healthz probe that
records how each try went. Used by proof/proxy and bench/slow_clients.py."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import requests


@contextmanager
def slow_header_clients(port: int, count: int) -> Iterator[list[socket.socket]]:
    """``count`` connections to 127.0.0.1:``port`` that each start a request and then
    send one more header line every 2 seconds, never finishing it."""
    sockets = []
    stop = threading.Event()
    thread = None
    try:
        for _ in range(count):
            conn = socket.create_connection(("127.0.0.1", port), timeout=5)
            conn.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            sockets.append(conn)

        def trickle() -> None:
            while not stop.wait(2):
                for conn in sockets:
                    # Closed by the server: that is its right.
                    with contextlib.suppress(OSError):
                        conn.sendall(b"X-Slow: 1\r\n")

        thread = threading.Thread(target=trickle, daemon=True)
        thread.start()
        yield sockets
    finally:
        stop.set()
        if thread is not None:
            thread.join()
        for conn in sockets:
            conn.close()


def still_open(conn: socket.socket) -> bool:
    """True while the server has not closed ``conn`` (nothing to read, no EOF)."""
    conn.setblocking(False)
    try:
        return conn.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        conn.setblocking(True)


def probe(
    base_url: str, *, times: int, timeout: float, pause: float = 0.25
) -> list[tuple[int | str, float]]:
    """/healthz ``times`` times, ``pause`` seconds apart: (status or error name, seconds)."""
    outcomes: list[tuple[int | str, float]] = []
    for _ in range(times):
        started = time.monotonic()
        try:
            outcome: int | str = requests.get(f"{base_url}/healthz", timeout=timeout).status_code
        except requests.RequestException as error:
            outcome = type(error).__name__
        outcomes.append((outcome, time.monotonic() - started))
        time.sleep(pause)
    return outcomes
