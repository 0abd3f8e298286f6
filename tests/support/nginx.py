"""nginx as the load balancer in front of several app instances, on loopback.

Round-robin over the instances, as a Kubernetes Service or an ingress spreads
requests over pods; a request that cannot reach an instance (connection refused,
because it died) is retried on the next one, as ingress-nginx does. The binary is
Debian's, found or unpacked by scripts/k8s/install-nginx (``NGINX``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import requests

from tests.support.network import free_port
from tests.support.processes import stop_process, wait_until


def nginx_binary() -> str:
    found = os.environ.get("NGINX") or shutil.which("nginx")
    if not found:
        raise RuntimeError("nginx not found: run the fleet test with `make k8s-check`")
    return found


class RoundRobinProxy:
    """``nginx`` balancing ``upstreams`` (host:port) on a free loopback port."""

    def __init__(self, upstreams: list[str]) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._dir = tempfile.TemporaryDirectory(prefix="nginx-")
        self.root = Path(self._dir.name)
        self.access_log = self.root / "access.log"
        servers = "\n".join(f"        server {u} max_fails=1 fail_timeout=30s;" for u in upstreams)
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
    upstream app {{
{servers}
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{self.port};
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
}}
"""
        )
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> RoundRobinProxy:
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

    def __enter__(self) -> RoundRobinProxy:
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
