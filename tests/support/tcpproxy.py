"""A TCP proxy on loopback that tests cut and restore, to take a dependency off the network."""

from __future__ import annotations

import contextlib
import socket
import threading

from tests.support.listener import LoopbackListener


class TcpProxy(LoopbackListener):
    """Forward 127.0.0.1:port to a target; ``stop()`` drops every connection."""

    def __init__(self, target_host: str, target_port: int, *, port: int | None = None) -> None:
        super().__init__(port=port)
        self.target = (target_host, target_port)

    def accepted(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            client.close()
            return
        upstream.settimeout(None)
        self.hold(client, upstream)
        for src, dst in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            self.release(src, dst)
