"""nginx in front of gunicorn on loopback: Debian's binary, found or unpacked by
proof/tools/install-nginx (``NGINX``), with a throwaway prefix of its own.

Two configurations:
- ``RoundRobinProxy``: the load balancer in front of several app instances, as a
  Kubernetes Service or an ingress spreads requests over pods; a request that cannot
  reach an instance (connection refused, because it died) is retried on the next one,
  as ingress-nginx does.
- ``StackProxy``: the compose stack's own proxy, ``docker/nginx/weather.conf`` as it
  is, with only its upstream address and listening port moved to loopback.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Self

import requests

from tests.support.network import free_port
from tests.support.processes import stop_process, wait_until

STACK_CONF = Path(__file__).resolve().parents[2] / "docker" / "nginx" / "weather.conf"


def nginx_binary() -> str:
    found = os.environ.get("NGINX") or shutil.which("nginx")
    if not found:
        raise RuntimeError(
            "nginx not found: run this through its make target (proxy-check, k8s-check, bench)"
        )
    return found


class Nginx:
    """``nginx`` serving ``http_conf`` (the inside of its ``http`` block) on ``self.port``;
    ``{root}`` in it names a throwaway directory of this instance's own (a cache's, say)."""

    def __init__(self, http_conf: str, *, port: int) -> None:
        self.port = port
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._dir = tempfile.TemporaryDirectory(prefix="nginx-")
        self.root = Path(self._dir.name)
        self.access_log = self.root / "access.log"
        temp = "\n".join(
            f"    {kind}_temp_path {self.root / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (self.root / "nginx.conf").write_text(
            f"""
worker_processes 2;
pid {self.root / "nginx.pid"};
error_log {self.root / "error.log"} warn;
events {{ worker_connections 1024; }}
http {{
    log_format upstream '$upstream_addr $status';
    access_log {self.access_log} upstream;
{temp}
{http_conf.replace("{root}", str(self.root))}
}}
"""
        )
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        self._process = subprocess.Popen(
            [nginx_binary(), "-p", str(self.root), "-c", str(self.root / "nginx.conf"),
             "-e", str(self.root / "error.log"), "-g", "daemon off; user root;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_until(
            lambda: requests.get(f"{self.base_url}/healthz", timeout=1).status_code == 200,
            what="nginx",
            timeout=15,
            process=self._process,
            log=self.error_log,
            on_failure=self.stop,
        )
        return self

    def stop(self) -> None:
        stop_process(self._process, grace=5)
        self._process = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._dir.cleanup()

    def error_log(self) -> str:
        path = self.root / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def served_by(self) -> dict[str, int]:
        """How many requests each upstream (host:port) answered, from the access log."""
        counts: dict[str, int] = {}
        if self.access_log.exists():
            for line in self.access_log.read_text().splitlines():
                tried = line.rsplit(" ", 1)[0].split(", ")  # every instance tried, in order
                counts[tried[-1]] = counts.get(tried[-1], 0) + 1
        return counts


class RoundRobinProxy(Nginx):
    """Round-robin over ``upstreams`` (host:port) on a free loopback port."""

    def __init__(self, upstreams: list[str]) -> None:
        port = free_port()
        servers = "\n".join(f"        server {u} max_fails=1 fail_timeout=30s;" for u in upstreams)
        super().__init__(
            f"""
    upstream app {{
{servers}
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
            # A dead instance refuses the connection: try the next one (GETs only).
            proxy_next_upstream error timeout;
            proxy_connect_timeout 2s;
            proxy_read_timeout 60s;
            proxy_max_temp_file_size 0;
        }}
    }}
""",
            port=port,
        )


def stack_conf(*, upstream: str, port: int) -> str:
    """docker/nginx/weather.conf with ``web:8000`` and ``listen 8080`` moved to loopback.

    Each substitution must happen exactly once, so a change to the file that this
    rewriting no longer fits fails here rather than testing something else.
    """
    text = STACK_CONF.read_text()
    for pattern, replacement in (
        (r"server web:8000;", f"server {upstream};"),
        (r"listen 8080;", f"listen 127.0.0.1:{port};"),
        (r"/var/cache/nginx/weather", "{root}/cache"),
    ):
        text, count = re.subn(re.escape(pattern), replacement, text)
        if count != 1:
            raise AssertionError(f"{STACK_CONF}: expected one {pattern!r}, found {count}")
    return text


class StackProxy(Nginx):
    """The compose stack's proxy in front of ``upstream`` (host:port), on a free port."""

    def __init__(self, upstream: str) -> None:
        port = free_port()
        super().__init__(stack_conf(upstream=upstream, port=port), port=port)
