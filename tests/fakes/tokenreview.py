"""A stand-in for the one Kubernetes API call Vault's kubernetes auth method makes.

Vault (or OpenBao) logs a pod in by posting the pod's service account token to the
cluster's TokenReview API (``POST /apis/authentication.k8s.io/v1/tokenreviews``) and
trusting the answer. This server answers that call over HTTPS on loopback (a
self-signed certificate made with the ``openssl`` command, which Vault is given as the
cluster's CA) for tokens it minted itself, the way the API server does for the tokens
it signs:

- the reviewer must present the reviewer token it was given (Vault's
  ``token_reviewer_jwt``), else 401;
- a token it never minted, or one past its expiry, is not authenticated;
- the audiences asked for must meet the token's own (``aud``), and the answer lists
  the ones that did, as the API server does for projected tokens.

Tokens are JWTs shaped like a projected service account token (``kubernetes.io``
claims, ``sub`` = ``system:serviceaccount:NS:NAME``): Vault reads those claims before
asking and checks they agree with the review. The signature is random bytes: nothing
but this server judges a token, as in a cluster where Vault has no signing key.
"""

from __future__ import annotations

import base64
import json
import secrets
import ssl
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self

REVIEW_PATH = "/apis/authentication.k8s.io/v1/tokenreviews"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class ServiceAccount:
    namespace: str
    name: str
    uid: str

    @property
    def username(self) -> str:
        return f"system:serviceaccount:{self.namespace}:{self.name}"


@dataclass(frozen=True)
class _Minted:
    account: ServiceAccount
    audiences: tuple[str, ...]
    expires_at: float


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A key and a certificate for 127.0.0.1, valid for a day."""
    key, cert = directory / "key.pem", directory / "cert.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-days", "1", "-subj", "/CN=kubernetes",
            "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )  # fmt: skip
    return key, cert


class FakeTokenReview:
    """A loopback HTTPS server answering TokenReviews for the tokens it mints."""

    def __init__(self) -> None:
        self.reviewer_token = "reviewer-" + secrets.token_urlsafe(16)
        self._tls_dir = tempfile.TemporaryDirectory(prefix="fake-kube-")
        key, cert = _self_signed(Path(self._tls_dir.name))
        self.ca_pem = cert.read_text()  # self-signed: the certificate is its own CA
        self._minted: dict[str, _Minted] = {}
        self._accounts: dict[tuple[str, str], ServiceAccount] = {}
        self._lock = threading.Lock()
        self.reviews: list[dict[str, Any]] = []  # each review's spec, for assertions
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"https://{host!s}:{port}"

    def start(self) -> Self:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._tls_dir.cleanup()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def account(self, *, namespace: str, name: str) -> ServiceAccount:
        """The service account NAME in NAMESPACE, with a stable uid."""
        with self._lock:
            return self._accounts.setdefault(
                (namespace, name), ServiceAccount(namespace, name, str(uuid.uuid4()))
            )

    def mint(
        self,
        *,
        namespace: str,
        name: str,
        audiences: tuple[str, ...] = ("vault",),
        ttl: float = 3600,
    ) -> str:
        """A projected token for the service account, as the kubelet would mount it."""
        account = self.account(namespace=namespace, name=name)
        now = int(time.time())
        claims = {
            "aud": list(audiences),
            "exp": now + int(ttl),
            "iat": now,
            "nbf": now,
            "iss": "https://kubernetes.default.svc.cluster.local",
            "sub": account.username,
            "kubernetes.io": {
                "namespace": account.namespace,
                "serviceaccount": {"name": account.name, "uid": account.uid},
                "pod": {"name": f"{account.name}-0", "uid": str(uuid.uuid4())},
            },
        }
        header = {"alg": "RS256", "kid": "fake", "typ": "JWT"}
        token = ".".join(
            [
                _b64(json.dumps(header).encode()),
                _b64(json.dumps(claims).encode()),
                _b64(secrets.token_bytes(256)),
            ]
        )
        with self._lock:
            self._minted[token] = _Minted(account, audiences, now + ttl)
        return token

    def review(self, spec: dict[str, Any]) -> dict[str, Any]:
        """The TokenReview status for ``spec`` (token, audiences)."""
        with self._lock:
            self.reviews.append(spec)
            minted = self._minted.get(str(spec.get("token", "")))
        if minted is None or time.time() >= minted.expires_at:
            return {"authenticated": False, "error": "invalid bearer token"}
        wanted = spec.get("audiences") or []
        matched = [aud for aud in wanted if aud in minted.audiences]
        if wanted and not matched:
            return {"authenticated": False, "error": "token audiences do not match"}
        return {
            "authenticated": True,
            "user": {
                "username": minted.account.username,
                "uid": minted.account.uid,
                "groups": [
                    "system:serviceaccounts",
                    f"system:serviceaccounts:{minted.account.namespace}",
                    "system:authenticated",
                ],
            },
            "audiences": matched or list(minted.audiences),
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                if self.path.split("?")[0] != REVIEW_PATH:
                    return self._send(404, {"kind": "Status", "reason": "NotFound"})
                if self.headers.get("Authorization") != f"Bearer {fake.reviewer_token}":
                    return self._send(401, {"kind": "Status", "reason": "Unauthorized"})
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length))
                    spec = body["spec"]
                except (ValueError, KeyError, TypeError):
                    return self._send(400, {"kind": "Status", "reason": "BadRequest"})
                self._send(
                    201,
                    {
                        "apiVersion": "authentication.k8s.io/v1",
                        "kind": "TokenReview",
                        "spec": spec,
                        "status": fake.review(spec),
                    },
                )

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
