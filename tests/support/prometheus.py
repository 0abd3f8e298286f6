"""A real Prometheus server (Debian's) scraping one target on loopback, and promtool.

The binaries come from ``PROMETHEUS_BIN`` (a directory; ``make observability-check``
sets it from ``proof/tools/install-prometheus``), else from PATH.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Self

import requests

from tests.support.network import free_port
from tests.support.processes import stop_process, wait_until


def binary(name: str) -> str:
    """The path of ``prometheus`` or ``promtool``."""
    directory = os.environ.get("PROMETHEUS_BIN", "")
    found = str(Path(directory) / name) if directory else shutil.which(name)
    if not found or not Path(found).exists():
        raise RuntimeError(f"{name} not found: run `make observability-check`, which installs it")
    return found


def promtool(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run promtool; its exit status is the caller's to judge."""
    return subprocess.run(
        [binary("promtool"), *args], input=stdin, capture_output=True, text=True, timeout=60
    )


class PrometheusServer:
    """``prometheus`` scraping ``target`` (host:port) every ``interval``, on a free port."""

    def __init__(
        self, *, target: str, interval: str = "1s", rule_files: tuple[Path, ...] = ()
    ) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._dir = tempfile.TemporaryDirectory(prefix="prometheus-")
        self.root = Path(self._dir.name)
        rules = "".join(f"\n  - {path}" for path in rule_files)
        (self.root / "prometheus.yml").write_text(
            f"""
global:
  scrape_interval: {interval}
  evaluation_interval: {interval}
rule_files:{rules or " []"}
scrape_configs:
  - job_name: weather
    metrics_path: /metrics
    static_configs:
      - targets: ["{target}"]
"""
        )
        self._log = (self.root / "prometheus.log").open("ab")
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        self._process = subprocess.Popen(
            [binary("prometheus"),
             f"--config.file={self.root / 'prometheus.yml'}",
             f"--storage.tsdb.path={self.root / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}",
             "--log.level=warn"],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_until(
            lambda: requests.get(f"{self.base_url}/-/ready", timeout=1).status_code == 200,
            what="prometheus",
            timeout=30,
            process=self._process,
            log=self.log_text,
            on_failure=self.stop,
        )
        return self

    def stop(self) -> None:
        stop_process(self._process, grace=10)
        self._process = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._log.close()
        self._dir.cleanup()

    def log_text(self) -> str:
        return (self.root / "prometheus.log").read_text(errors="replace")

    def query(self, promql: str) -> list[dict[str, Any]]:
        """An instant query's result vector: [{"metric": {...}, "value": [t, "v"]}, ...]."""
        answer = requests.get(f"{self.base_url}/api/v1/query", params={"query": promql}, timeout=10)
        answer.raise_for_status()
        body = answer.json()
        if body["status"] != "success" or body["data"]["resultType"] != "vector":
            raise AssertionError(f"{promql}: {body}")
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def scalar(self, promql: str) -> float | None:
        """The one value of a query (None when the vector is empty)."""
        result = self.query(promql)
        if not result:
            return None
        if len(result) != 1:
            raise AssertionError(f"{promql}: {len(result)} series, expected one")
        return float(result[0]["value"][1])

    def by(self, label: str, promql: str) -> dict[str, float]:
        """A query's values keyed by one label."""
        return {r["metric"].get(label, ""): float(r["value"][1]) for r in self.query(promql)}

    def targets_up(self) -> bool:
        return self.scalar('up{job="weather"}') == 1.0
