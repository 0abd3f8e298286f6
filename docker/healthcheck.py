"""The image's HEALTHCHECK: exit 0 when /healthz answers 200 on the port gunicorn binds.

It follows GUNICORN_BIND (as docker/start does), so moving the port needs no second
setting. Standard library only: it runs with whatever python3 the base image has.
"""

import os
import sys
import urllib.error
import urllib.request


def healthz_url(bind: str) -> str:
    """Map gunicorn's bind address to a URL reachable from inside the container."""
    host, _, port = bind.rpartition(":")
    host = host.strip("[]")
    if host in {"", "0.0.0.0", "::"}:  # noqa: S104 (parsing the bind address, not binding)
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/healthz"


def main() -> int:
    bind = os.environ.get("GUNICORN_BIND") or "0.0.0.0:8000"
    if bind.startswith(("unix:", "fd://")):
        print(f"healthcheck: cannot probe {bind!r} over TCP", file=sys.stderr)
        return 1
    url = healthz_url(bind)
    try:
        with urllib.request.urlopen(url, timeout=4) as response:  # noqa: S310 (fixed http URL)
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"healthcheck: {url}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
