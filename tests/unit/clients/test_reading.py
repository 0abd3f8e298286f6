"""Reading an answer in steps against one deadline, on the socket's own timeouts."""

from __future__ import annotations

import errno
import time
from typing import Any

import requests

from weather.clients.reading import read_capped


class Socket:
    """A socket that refuses a timeout once it is closed, as a real one does (EBADF)."""

    def __init__(self) -> None:
        self.closed = False
        self.timeouts: list[float] = []

    def settimeout(self, seconds: float) -> None:
        if self.closed:
            raise OSError(errno.EBADF, "Bad file descriptor")
        self.timeouts.append(seconds)


class Connection:
    def __init__(self, sock: Socket) -> None:
        self.sock = sock


class PooledBody:
    """urllib3's response as a pool uses it: once the body is read, the connection goes
    back to the pool (``connection`` is None from then on), which may close it."""

    def __init__(self, chunks: list[bytes], sock: Socket) -> None:
        self.chunks = chunks
        self.sock = sock
        self.connection: Connection | None = Connection(sock)

    def read1(self, amount: int, decode_content: bool = True) -> bytes:
        if self.chunks:
            chunk = self.chunks.pop(0)
            if not self.chunks:  # the last of the body: released, and the full pool closes it
                self.connection = None
                self.sock.closed = True
            return chunk
        return b""


def answer(raw: Any) -> requests.Response:
    response = requests.Response()
    response.raw = raw
    return response


def test_a_connection_handed_back_to_its_pool_is_not_touched_again():
    sock = Socket()
    raw = PooledBody([b'{"a": ', b"1}"], sock)
    body = read_capped(answer(raw), max_bytes=1000, finish_by=time.monotonic() + 5)
    assert body == b'{"a": 1}'
    assert len(sock.timeouts) == 2  # one per read while the connection was this answer's
