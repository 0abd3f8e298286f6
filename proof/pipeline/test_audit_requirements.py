"""scripts/ci/audit-requirements: pip-audit on the lock files, against a stand-in OSV.

The real advisory sources cannot be reached from these machines (docs/how-to/gitlab.md),
so an OSV-compatible service on loopback answers instead: it knows one advisory for
the Django version base.txt pins, or none. The script must fail on the first and pass
on the second, having looked up every pinned package.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from proof.pipeline.support import ROOT, SCRIPTS, output, run


def pins(lock: str) -> dict[str, str]:
    text = (ROOT / "requirements" / lock).read_text()
    found = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", text, re.M)
    return {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in found}


class FakeOsv(ThreadingHTTPServer):
    advisories: dict[str, list[dict[str, Any]]]
    asked: list[str]


class Handler(BaseHTTPRequestHandler):
    server: FakeOsv

    def do_POST(self) -> None:
        query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        name = query["package"]["name"]
        self.server.asked.append(f"{name}=={query['version']}")
        body = json.dumps({"vulns": self.server.advisories.get(name, [])} if name else {})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def osv() -> Iterator[FakeOsv]:
    server = FakeOsv(("127.0.0.1", 0), Handler)
    server.advisories, server.asked = {}, []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def audit(server: FakeOsv):
    url = f"http://127.0.0.1:{server.server_address[1]}/v1/query"
    return run(
        [SCRIPTS / "audit-requirements", "--vulnerability-service", "osv", "--osv-url", url],
        check=False,
    )


def test_every_pinned_package_is_looked_up_and_a_clean_audit_passes(osv):
    result = audit(osv)
    assert result.returncode == 0, output(result)
    expected = {
        f"{name}=={version}"
        for lock in ("base.txt", "dev.txt")
        for name, version in pins(lock).items()
    }
    assert expected <= set(osv.asked), sorted(expected - set(osv.asked))


def test_a_known_vulnerability_in_a_pinned_package_fails_the_audit(osv):
    django = pins("base.txt")["django"]
    osv.advisories["django"] = [
        {
            "id": "PYSEC-0000-TEST",
            "summary": "a planted advisory",
            "affected": [
                {
                    "package": {"name": "django", "ecosystem": "PyPI"},
                    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
                    "versions": [django],
                }
            ],
        }
    ]
    result = audit(osv)
    assert result.returncode != 0, output(result)
    assert "PYSEC-0000-TEST" in output(result)
    assert "django" in output(result)
