"""A TCP listener on loopback that hands each accepted connection to a subclass, and
closes every connection it holds on ``stop()``: the lifecycle SilentServer and
TcpProxy share."""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Self

from tests.support.network import free_port


class LoopbackListener:
    """Accept on 127.0.0.1:``port`` in a thread; ``accepted`` decides what to keep."""

    def __init__(self, *, port: int | None = None) -> None:
        self.port = port or free_port()
        self._listener: socket.socket | None = None
        self._held: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> Self:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self._listener = listener
        threading.Thread(target=self._accept_loop, args=(listener,), daemon=True).start()
        return self

    def stop(self) -> None:
        """Refuse new connections and reset the held ones, as a dead host would."""
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            for conn in self._held:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            self._held.clear()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def hold(self, *connections: socket.socket) -> None:
        """Keep these open until ``stop()`` (or ``release``)."""
        with self._lock:
            self._held.update(connections)

    def release(self, *connections: socket.socket) -> None:
        with self._lock:
            self._held.difference_update(connections)

    def accepted(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def _accept_loop(self, listener: socket.socket) -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            self.accepted(conn)
