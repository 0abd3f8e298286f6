"""Reading an answer within bounds: its size, its time, and the depth of its JSON.

An answer is read in 64 KiB steps with ``read1``, each waiting only for what is left
of the whole answer's time, so a body sent one byte at a time cannot hold a worker;
past ``max_bytes`` (after decompression) or past the time, reading stops. JSON nested
deeper than any real answer, or holding NaN or Infinity, is refused before anything
walks it.
"""

from __future__ import annotations

import json
import time
from typing import Any

import requests


class AnswerRefused(ValueError):
    """An answer too large or too slow to read; the message says which."""


# Real answers nest five levels deep; json itself would recurse until RecursionError.
_MAX_DEPTH = 16
_CHUNK_BYTES = 64 * 1024


def read_capped(response: requests.Response, *, max_bytes: int, finish_by: float) -> bytes:
    """The body, read in steps that each wait at most until ``finish_by``; raise past
    ``max_bytes`` (decompressed) or past the time, whichever comes first."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise AnswerRefused(f"OpenWeather's answer is larger than {max_bytes} bytes")
    raw = response.raw
    chunks: list[bytes] = []
    size = 0
    while True:
        remaining = finish_by - time.monotonic()
        if remaining <= 0:
            raise AnswerRefused("OpenWeather's answer did not arrive in time")
        # Asked again before each read: once the body is in, urllib3 hands the connection
        # back to its pool, which closes it when full or lends it to another thread, and
        # its socket is no longer this read's (a timeout set on it then failed with
        # EBADF when calls ran at once).
        sock = getattr(getattr(raw, "connection", None), "sock", None)
        if sock is not None:
            # Each read waits only for what is left of the whole answer's time.
            sock.settimeout(remaining)
        chunk = raw.read1(_CHUNK_BYTES, decode_content=True)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > max_bytes:
            raise AnswerRefused(f"OpenWeather's answer is larger than {max_bytes} bytes")
        chunks.append(chunk)


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number JSON answers may hold")


def parse_json(content: bytes) -> Any:
    """The parsed answer, or None when it is not JSON, too deep, or holds NaN/Infinity."""
    try:
        body = json.loads(content, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        return None
    return body if _nesting_within(body, _MAX_DEPTH) else None


def _nesting_within(value: Any, limit: int) -> bool:
    """Whether lists and dicts in ``value`` nest at most ``limit`` deep (no recursion)."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return False
        pending.extend((child, depth + 1) for child in children)
    return True
