"""A fake upstream served over HTTP on loopback (standard library only, for the demo image).

:class:`FakeHTTPServer` runs a threading HTTP/1.1 server in a thread of its own and hands
each GET to its subclass's :meth:`~FakeHTTPServer.respond`; it sends what that returns as
JSON, or a :class:`~tests.fakes.hostile.Streamed` body piece by piece. Once stopped it
answers nothing more, idle keep-alive connections included.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from tests.fakes.bodies import encoded
from tests.fakes.hostile import Answer, Streamed

__all__ = ["FakeHTTPServer"]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeHTTPServer

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn) that can stall for seconds.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet: clients hanging up mid-response are routine here."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "openresty"
    sys_version = ""
    timeout = 60  # lets idle keep-alive connections go eventually
    # As nginx (tcp_nodelay on) does: without it, Nagle's algorithm holds an answer's body
    # behind its headers until the client's delayed ACK, 40 ms more for any large answer.
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()
        self.server.fake._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.fake._track(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:
        """Log nothing: request lines carry the key (``appid``)."""

    def _send(self, status: int, body: bytes | Streamed | Any) -> None:
        if isinstance(body, Streamed):
            self._stream(status, body)
            return
        if not isinstance(body, bytes):
            body = encoded(body)
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _stream(self, status: int, body: Streamed) -> None:
        """Write ``body`` piece by piece, until it ends, the client leaves or the fake stops."""
        self.close_connection = True  # whatever the client read of it, the connection is spent
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        for name, value in body.headers:
            self.send_header(name, value)
        chunked = body.length is None
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(body.length))
        self.end_headers()
        stopping = self.server.fake._stopping
        with contextlib.suppress(OSError):  # the client hung up: routine here
            for piece in body.pieces:
                if stopping.wait(body.pause) if body.pause else stopping.is_set():
                    return
                self.wfile.write(b"%x\r\n%b\r\n" % (len(piece), piece) if chunked else piece)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        self._send(*self.server.fake.respond(url.path, query))


class FakeHTTPServer:
    """A fake upstream on ``host``:``port`` (0: a free one), served from a thread of its
    own between ``start()`` and ``stop()``, or as a context manager."""

    thread_name = "fake-upstream"  # the serving thread's name, before its port

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self._stopping = threading.Event()
        # Guards the open connections here, and whatever a subclass counts.
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def respond(self, path: str, query: dict[str, str]) -> Answer:
        """The answer to a GET of ``path`` with ``query`` (its first value of each name)."""
        raise NotImplementedError

    def start(self) -> Self:
        if self._server is not None:
            raise RuntimeError("already started")
        server = _Server((self.host, self.port), _Handler)
        server.fake = self
        self._stopping.clear()
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"{self.thread_name}-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()  # ends answers still being streamed
        server.shutdown()
        server.server_close()
        # Idle keep-alive connections would otherwise keep answering after stop().
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            (self._connections.add if add else self._connections.discard)(conn)
