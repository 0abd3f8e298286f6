"""A TCP server on loopback that accepts connections and never answers: a hung dependency."""

from __future__ import annotations

import socket
import time

from tests.support.listener import LoopbackListener


class SilentServer(LoopbackListener):
    """Accept on 127.0.0.1:port, say nothing, and note when each connection came."""

    def __init__(self) -> None:
        super().__init__()
        self.addr = f"http://127.0.0.1:{self.port}"
        self.accepted_at: list[float] = []  # time.monotonic() of each connection

    @property
    def connections(self) -> int:
        with self._lock:
            return len(self.accepted_at)

    def accepted(self, conn: socket.socket) -> None:
        with self._lock:
            self.accepted_at.append(time.monotonic())
        self.hold(conn)  # kept open and unread until stop()
