"""Logging in to Vault, reading the key from KV v2, and keeping the app's token alive.

Three ways in, tried in this order: AppRole (``VAULT_ROLE_ID`` and a secret ID), the
Kubernetes auth method (``VAULT_K8S_ROLE``: the pod's projected service account token,
read from ``VAULT_K8S_TOKEN_PATH`` at each login because the kubelet rotates it), or a
token (``VAULT_TOKEN``, or ``VAULT_TOKEN_FILE``).

The token is kept alive the way Vault Agent keeps one: after each login its TTL and
renewable flag are learnt (from the login's answer, or by looking the token up), and a
background thread renews it at two thirds of its TTL. When it cannot be renewed any
more (at its max TTL, or renewal fails), the thread logs in again (AppRole or
Kubernetes) or re-reads ``VAULT_TOKEN_FILE``, which Vault Agent rewrites. A refusal
(403) does the same once, then the read is retried.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hvac
import hvac.exceptions
import requests

from weather import metrics
from weather.vault.config import VaultConfig
from weather.vault.errors import (
    SecretMissing,
    VaultError,
    VaultNotConfigured,
    VaultPermissionDenied,
    VaultSealed,
    VaultUnreachable,
)

logger = logging.getLogger(__name__)

# Renew a token once this much of its TTL has gone, as Vault Agent does.
RENEW_AT_FRACTION = 2 / 3


def _read_file(path: str, what: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError as exc:
        raise VaultNotConfigured(f"Cannot read {what} from {path}: {exc.strerror}") from exc


@dataclass(frozen=True)
class TokenLease:
    """A token's lifetime as Vault last reported it, on the reader's clock."""

    renewable: bool
    expires_at: float  # math.inf: the token does not expire
    renew_at: float

    @classmethod
    def starting(cls, *, now: float, ttl: float, renewable: bool) -> TokenLease:
        if ttl <= 0:
            return cls(renewable=False, expires_at=math.inf, renew_at=math.inf)
        renew_at = now + ttl * RENEW_AT_FRACTION
        return cls(renewable=renewable, expires_at=now + ttl, renew_at=renew_at)


def _number(value: object) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


class VaultKeyReader:
    """Read the key from KV v2, logging in by token, AppRole or Kubernetes; keep the token alive."""

    def __init__(
        self,
        config: VaultConfig,
        *,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
        keep_alive: bool = True,
    ) -> None:
        self.config = config
        self._session = session
        self._clock = clock
        self._keep_alive = keep_alive
        # Guards the client and its lease, and makes logins and renewals one at a time.
        self._lock = threading.Lock()
        self._client: hvac.Client | None = None
        self._lease: TokenLease | None = None
        self._stop = threading.Event()
        self._keeper: threading.Thread | None = None
        weakref.finalize(self, self._stop.set)

    @property
    def lease(self) -> TokenLease | None:
        """The current token's lifetime, once known."""
        return self._lease

    def close(self) -> None:
        """Stop keeping the token alive."""
        self._stop.set()

    def read(self) -> str:
        """Return the key; on a refusal, log in again (or re-read the token file) once."""
        try:
            return self._read_secret()
        except VaultPermissionDenied:
            if not self._replace_token_after_refusal():
                raise
            return self._read_secret()

    def _replace_token_after_refusal(self) -> bool:
        config = self.config
        if config.uses_approle:
            logger.info("Vault refused the AppRole token; logging in again")
        elif config.uses_kubernetes:
            logger.info("Vault refused the Kubernetes login's token; logging in again")
        elif config.uses_token_file:
            # Vault Agent rewrites its sink file when it gets a new token.
            token = _read_file(config.token_file, "the Vault token")
            with self._lock:
                if self._client is not None and self._client.token == token:
                    return False
            logger.info("Vault refused the token; read a new one from VAULT_TOKEN_FILE")
        else:
            return False
        with self._lock:
            self._client = self._lease = None
        return True

    def _read_secret(self) -> str:
        config = self.config
        try:
            client = self._authenticated_client()
            response = client.secrets.kv.v2.read_secret_version(
                path=config.secret_path,
                mount_point=config.kv_mount,
                raise_on_deleted_version=True,
            )
        except VaultError:
            raise
        except hvac.exceptions.InvalidPath as exc:
            raise SecretMissing(f"No secret at {config.kv_mount}/{config.secret_path}") from exc
        except (hvac.exceptions.VaultError, requests.RequestException) as exc:
            raise self._error(exc, f"access to {config.location}") from exc

        data = (response or {}).get("data") or {}
        value = (data.get("data") or {}).get(config.secret_key)
        if not isinstance(value, str) or not value.strip():
            raise SecretMissing(f"Field {config.secret_key!r} missing in {config.location}")
        return value.strip()

    def _error(self, exc: Exception, what: str) -> VaultError:
        """The project's error for an hvac or requests failure."""
        addr = self.config.addr
        if isinstance(
            exc,
            (
                hvac.exceptions.Unauthorized,
                hvac.exceptions.Forbidden,
                # An AppRole login with a wrong or used-up secret ID answers 400.
                hvac.exceptions.InvalidRequest,
            ),
        ):
            return VaultPermissionDenied(f"Vault denied {what}")
        if isinstance(exc, (hvac.exceptions.VaultDown, hvac.exceptions.VaultNotInitialized)):
            return VaultSealed(f"Vault at {addr} is sealed or not initialised")
        if isinstance(exc, hvac.exceptions.VaultError):
            return VaultUnreachable(f"Vault at {addr} answered an error")
        return VaultUnreachable(f"Cannot reach Vault at {addr}")

    def _authenticated_client(self) -> hvac.Client:
        with self._lock:
            lease = self._lease
            if self._client is not None and (lease is None or self._clock() < lease.expires_at):
                return self._client
            # No token yet, or the one we had has expired (the keeper could not save it).
            client = self._log_in()
        self._start_keeper()
        return client

    def _log_in(self) -> hvac.Client:
        """Build a client holding a fresh token and learn its lifetime (caller holds the lock)."""
        config = self.config
        self._client = self._lease = None
        # token="" (not None): hvac would otherwise read VAULT_TOKEN and ~/.vault-token
        # behind our back.
        client = hvac.Client(
            url=config.addr,
            token="",
            # hvac hands it to requests, which takes a float; the stub says int.
            timeout=config.timeout,  # type: ignore[arg-type]
            verify=config.cacert or True,
            session=self._session,
        )
        now = self._clock()
        if config.uses_approle:
            secret_id = config.secret_id or _read_file(
                config.secret_id_file, "the AppRole secret ID"
            )
            try:
                response = client.auth.approle.login(
                    role_id=config.role_id,
                    secret_id=secret_id,
                    mount_point=config.approle_mount,
                )
            except (hvac.exceptions.VaultError, requests.RequestException) as exc:
                raise self._error(exc, "the AppRole login") from exc
            lease: TokenLease | None = self._lease_from(response.get("auth") or {}, now)
        elif config.uses_kubernetes:
            # Read at every login: the kubelet replaces the projected token before it expires.
            jwt = _read_file(config.k8s_token_path, "the Kubernetes service account token")
            try:
                response = client.auth.kubernetes.login(
                    role=config.k8s_role, jwt=jwt, mount_point=config.k8s_mount
                )
            except (hvac.exceptions.VaultError, requests.RequestException) as exc:
                raise self._error(exc, "the Kubernetes login") from exc
            lease = self._lease_from(response.get("auth") or {}, now)
        elif config.token or config.token_file:
            client.token = config.token or _read_file(config.token_file, "the Vault token")
            lease = self._looked_up_lease(client, now)
        else:
            raise VaultNotConfigured(
                "Set VAULT_TOKEN (or VAULT_TOKEN_FILE), VAULT_ROLE_ID with "
                "VAULT_SECRET_ID (or VAULT_SECRET_ID_FILE), or VAULT_K8S_ROLE"
            )
        self._client, self._lease = client, lease
        _report_lease(lease, self._clock())
        return client

    @staticmethod
    def _lease_from(auth: Mapping[str, Any], now: float) -> TokenLease:
        return TokenLease.starting(
            now=now,
            ttl=_number(auth.get("lease_duration")),
            renewable=auth.get("renewable") is True,
        )

    def _looked_up_lease(self, client: hvac.Client, now: float) -> TokenLease | None:
        """The lifetime of a token we were given; None if it may not look itself up."""
        try:
            data = client.auth.token.lookup_self().get("data") or {}
        except (hvac.exceptions.Unauthorized, hvac.exceptions.Forbidden) as exc:
            # Without the lookup-self grant: the read that follows says if the token is good.
            logger.info("could not look up the Vault token's TTL: %s", type(exc).__name__)
            return None
        except (hvac.exceptions.VaultError, requests.RequestException) as exc:
            raise self._error(exc, "the token lookup") from exc
        return TokenLease.starting(
            now=now, ttl=_number(data.get("ttl")), renewable=data.get("renewable") is True
        )

    def keep_token_alive(self) -> float | None:
        """Renew the token (or get a new one) if it is due; return seconds until the next turn.

        None means there is nothing to keep alive: no token, or one that never expires.
        """
        with self._lock:
            lease, client = self._lease, self._client
            if client is None or lease is None or lease.expires_at == math.inf:
                return None
            now = self._clock()
            if now < lease.renew_at:
                return lease.renew_at - now
            if lease.renewable and (renewed := self._renew(client, lease, now)):
                return _delay_until(renewed, now)
            if not self.config.can_log_in_again:
                if now >= lease.expires_at:
                    logger.error("the Vault token has expired and cannot be replaced")
                    return None
                return self._retry_in(lease, now)
            try:
                self._log_in()
            except VaultError as exc:
                logger.warning("could not get a new Vault token: %s", type(exc).__name__)
                self._client, self._lease = client, lease  # keep trying with the old one
                return self._retry_in(lease, now)
            logger.info("got a new Vault token")
            return _delay_until(self._lease, now)

    def _renew(self, client: hvac.Client, lease: TokenLease, now: float) -> TokenLease | None:
        """Renew the token and return its new lease; None if Vault would not."""
        try:
            response = client.auth.token.renew_self()
        except (hvac.exceptions.VaultError, requests.RequestException) as exc:
            logger.warning("could not renew the Vault token: %s", type(exc).__name__)
            return None
        renewed = self._lease_from(response.get("auth") or {}, now)
        if renewed.expires_at <= lease.expires_at + 1:
            # At its max TTL: renewing buys no more time. Use it up, then replace it.
            renewed = TokenLease(
                renewable=False,
                expires_at=renewed.expires_at,
                renew_at=now + (renewed.expires_at - now) * RENEW_AT_FRACTION,
            )
        else:
            logger.info("renewed the Vault token for %.0f s", renewed.expires_at - now)
        self._lease = renewed
        _report_lease(renewed, self._clock())
        return renewed

    @staticmethod
    def _retry_in(lease: TokenLease, now: float) -> float:
        return min(30.0, max(1.0, (lease.expires_at - now) / 3))

    def _start_keeper(self) -> None:
        """Start the thread that keeps the token alive, unless it runs or is not needed."""
        with self._lock:
            lease = self._lease
            if lease is None or lease.expires_at == math.inf or not self._keep_alive:
                return
            if self._stop.is_set() or (self._keeper and self._keeper.is_alive()):
                return
            self._keeper = threading.Thread(
                target=_keep_alive_loop,
                args=(weakref.ref(self), self._stop, lease.renew_at - self._clock()),
                name="vault-token-keeper",
                daemon=True,
            )
            self._keeper.start()


def _report_lease(lease: TokenLease | None, now: float) -> None:
    """Put the token's TTL and expiry on /metrics (unknown without the lookup-self grant)."""
    if lease is None:
        return
    ttl = lease.expires_at - now if lease.expires_at != math.inf else math.inf
    metrics.vault_token_lease(ttl=ttl, expires_at=time.time() + ttl)


def _delay_until(lease: TokenLease | None, now: float) -> float | None:
    if lease is None or lease.renew_at == math.inf:
        return None
    return max(lease.renew_at - now, 0.1)


def _keep_alive_loop(
    reader_ref: weakref.ref[VaultKeyReader], stop: threading.Event, delay: float
) -> None:
    # A weak reference: a reader nobody uses any more is collected, which sets ``stop``.
    while not stop.wait(max(delay, 0.1)):
        reader = reader_ref()
        if reader is None:
            return
        next_delay = reader.keep_token_alive()
        del reader
        if next_delay is None:
            return
        delay = next_delay
