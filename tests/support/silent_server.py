"""A TCP server on loopback that accepts connections and never answers: a hung dependency."""

from __future__ import annotations

import socket
import threading
import time

from tests.support.network import free_port


class SilentServer:
    """Accept on 127.0.0.1:port, say nothing, and note when each connection came."""

    def __init__(self) -> None:
        self.port = free_port()
        self.addr = f"http://127.0.0.1:{self.port}"
        self.accepted_at: list[float] = []  # time.monotonic() of each connection
        self._listener: socket.socket | None = None
        self._held: list[socket.socket] = []
        self._lock = threading.Lock()

    @property
    def connections(self) -> int:
        with self._lock:
            return len(self.accepted_at)

    def start(self) -> SilentServer:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            for conn in self._held:
                conn.close()
            self._held.clear()

    def __enter__(self) -> SilentServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with self._lock:
                self.accepted_at.append(time.monotonic())
                self._held.append(conn)  # kept open and unread until stop()
