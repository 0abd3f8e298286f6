"""The OpenWeather API key, read from Vault (KV v2) at run time and cached in memory.

Nothing here talks to Vault at import time. The key lives in exactly one place,
an ``ApiKeyCache``, for at most ``VAULT_KEY_TTL`` seconds; the OpenWeather client
calls ``invalidate()`` when the upstream rejects it, which is how a rotated key is
picked up without a restart. One thread at a time reads Vault, without holding the
cache's lock, and a failed read is not repeated before a short, growing backoff
(``VAULT_RETRY_BACKOFF``): a slow or dead Vault costs each worker one connection per
window, never a queue of threads.

Logging in and keeping the token alive is ``weather.vault_reader``'s part. Errors::

    VaultError
    ├── VaultNotConfigured      no token, AppRole credentials or Kubernetes role
    ├── VaultUnreachable        connection refused, timeout, DNS
    ├── VaultSealed             the server answers but is sealed (503)
    ├── VaultPermissionDenied   token or AppRole lacks access, or expired
    └── SecretMissing           the path or the field does not exist
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from weather.redaction import ApiKey

logger = logging.getLogger(__name__)


class VaultError(Exception):
    """Base of every error raised while getting the key from Vault."""

    code = "vault_unavailable"


class VaultNotConfigured(VaultError):
    """No token, AppRole credentials or Kubernetes role is set (or a file cannot be read)."""


class VaultUnreachable(VaultError):
    """Vault did not answer."""


class VaultSealed(VaultError):
    """Vault answered that it is sealed or not initialised."""


class VaultPermissionDenied(VaultError):
    """The credentials were refused or do not grant access to the secret."""


class SecretMissing(VaultError):
    """The secret path or the field inside it does not exist."""


@dataclass(frozen=True)
class VaultConfig:
    """Where the key lives and how to log in; built from settings, never from os.environ."""

    addr: str
    kv_mount: str
    secret_path: str
    secret_key: str
    token: str = ""
    token_file: str = ""
    role_id: str = ""
    secret_id: str = ""
    secret_id_file: str = ""
    approle_mount: str = "approle"
    k8s_role: str = ""
    k8s_token_path: str = "/var/run/secrets/vault/token"  # noqa: S105 (a path)
    k8s_mount: str = "kubernetes"
    cacert: str = ""
    timeout: float = 3.0

    def __repr__(self) -> str:
        # Keep credentials out of reprs, which debug pages and loggers print.
        return f"VaultConfig(addr={self.addr!r}, path={self.kv_mount}/{self.secret_path})"

    @classmethod
    def from_settings(cls) -> VaultConfig:
        return cls(
            addr=settings.VAULT_ADDR,
            kv_mount=settings.VAULT_KV_MOUNT,
            secret_path=settings.VAULT_SECRET_PATH,
            secret_key=settings.VAULT_SECRET_KEY,
            token=settings.VAULT_TOKEN,
            token_file=settings.VAULT_TOKEN_FILE,
            role_id=settings.VAULT_ROLE_ID,
            secret_id=settings.VAULT_SECRET_ID,
            secret_id_file=settings.VAULT_SECRET_ID_FILE,
            approle_mount=settings.VAULT_APPROLE_MOUNT,
            k8s_role=settings.VAULT_K8S_ROLE,
            k8s_token_path=settings.VAULT_K8S_TOKEN_PATH,
            k8s_mount=settings.VAULT_K8S_MOUNT,
            cacert=settings.VAULT_CACERT,
            timeout=settings.VAULT_TIMEOUT,
        )

    @property
    def uses_approle(self) -> bool:
        return bool(self.role_id and (self.secret_id or self.secret_id_file))

    @property
    def uses_kubernetes(self) -> bool:
        """Log in with the pod's service account token (Vault's kubernetes auth method)."""
        return bool(self.k8s_role and not self.uses_approle)

    @property
    def uses_token_file(self) -> bool:
        return bool(
            self.token_file
            and not self.token
            and not self.uses_approle
            and not self.uses_kubernetes
        )

    @property
    def can_log_in_again(self) -> bool:
        """Whether a new token can be had: by a login, or from a file something rewrites."""
        return self.uses_approle or self.uses_kubernetes or self.uses_token_file

    @property
    def location(self) -> str:
        return f"{self.kv_mount}/{self.secret_path}#{self.secret_key}"


class ApiKeyCache:
    """Hold the key in memory for ``ttl`` seconds; re-read it after ``invalidate()``.

    One thread reads at a time, outside the lock. While it does, the others get the
    key that has just expired, if there is one, or wait for the read at most ``wait``
    seconds. A failed read is remembered: until a backoff of up to ``backoff`` seconds
    (doubling with each failure in a row, up to ``backoff_max``, with jitter) has
    passed, ``get()`` raises that error again without calling Vault.
    """

    def __init__(
        self,
        *,
        read: Callable[[], str],
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
        backoff: float = 2.0,
        backoff_max: float = 30.0,
        wait: float = 1.0,
    ) -> None:
        self._read = read
        self._ttl = ttl
        self._clock = clock
        self._backoff = backoff
        self._backoff_max = backoff_max
        self._wait = wait
        self._changed = threading.Condition(threading.Lock())
        self._key: ApiKey | None = None
        self._expires_at = 0.0
        self._reading = False
        self._generation = 0  # bumped by invalidate(), so a read begun before it is not kept
        self._failure: VaultError | None = None
        self._failures = 0
        self._retry_at = 0.0
        self.reads = 0  # successful reads
        self.attempts = 0  # reads begun, failed or not

    def __repr__(self) -> str:
        return f"<ApiKeyCache cached={self._key is not None} reads={self.reads}>"

    def get(self) -> ApiKey:
        """Return the cached key, reading it from Vault when absent or expired."""
        with self._changed:
            generation = self._begin_read()
            if isinstance(generation, ApiKey):
                return generation
        try:
            key = ApiKey(self._read())
        except VaultError as exc:
            self._finish(generation, failure=exc)
            raise
        except BaseException:
            self._finish(generation)
            raise
        self._finish(generation, key=key)
        # Operators (and the benchmark) count these lines: one per worker per TTL is normal.
        logger.info("read the OpenWeather API key from Vault")
        return key

    def _begin_read(self) -> ApiKey | int:
        """A key to return, or the generation of the read this thread must do (lock held)."""
        waited_until: float | None = None
        while True:
            now = self._clock()
            if self._key is not None and now < self._expires_at:
                return self._key
            if self._failure is not None and now < self._retry_at:
                raise _again(self._failure)
            if not self._reading:
                self._reading = True
                self.attempts += 1
                return self._generation
            if self._key is not None:
                return self._key  # expired a moment ago; its successor is on the way
            if waited_until is None:
                waited_until = time.monotonic() + self._wait
            remaining = waited_until - time.monotonic()
            if remaining <= 0:
                raise VaultUnreachable("Vault is slow to answer: the key is still being read")
            self._changed.wait(remaining)

    def _finish(
        self, generation: int, *, key: ApiKey | None = None, failure: VaultError | None = None
    ) -> None:
        with self._changed:
            self._reading = False
            if key is not None:
                self._failure, self._failures = None, 0
                self.reads += 1
                if generation == self._generation:
                    self._key, self._expires_at = key, self._clock() + self._ttl
            elif failure is not None:
                self._key, self._expires_at = None, 0.0
                self._failure, self._failures = failure, self._failures + 1
                self._retry_at = self._clock() + self._next_backoff()
            self._changed.notify_all()

    def _next_backoff(self) -> float:
        ceiling = min(self._backoff_max, self._backoff * 2.0 ** (self._failures - 1))
        # Jitter, so the workers of a fleet do not all come back at the same moment.
        jitter: float = 0.5 + random.random() / 2  # noqa: S311 (not for cryptography)
        return ceiling * jitter

    def invalidate(self) -> None:
        """Forget the key so the next ``get()`` reads Vault again."""
        with self._changed:
            self._key = None
            self._expires_at = 0.0
            self._generation += 1

    @property
    def is_cached(self) -> bool:
        with self._changed:
            return self._key is not None and self._clock() < self._expires_at


def _again(failure: VaultError) -> VaultError:
    """A fresh copy of a remembered error (one exception object is not raised in many threads)."""
    again = type(failure)(*failure.args)
    again.__cause__ = failure.__cause__
    return again


class _ProcessKeyCache:
    """The process-wide ``ApiKeyCache``: built once, even when the first requests race.

    (``functools.cache`` may call its function once per racing thread, and each cache
    it built would read Vault on its own, ignoring the others' backoff.)
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: ApiKeyCache | None = None

    def __call__(self) -> ApiKeyCache:
        with self._lock:
            if self._cache is None:
                self._cache = self._from_settings()
            return self._cache

    def cache_clear(self) -> None:
        """Forget the cache (and so the token), so the next call builds one from settings."""
        with self._lock:
            self._cache = None

    @staticmethod
    def _from_settings() -> ApiKeyCache:
        # Imported here: the reader's module imports the error tree from this one.
        from weather.vault_reader import VaultKeyReader

        reader = VaultKeyReader(VaultConfig.from_settings())
        return ApiKeyCache(
            read=reader.read,
            ttl=settings.VAULT_KEY_TTL,
            backoff=settings.VAULT_RETRY_BACKOFF,
            backoff_max=settings.VAULT_RETRY_BACKOFF_MAX,
            # A request needing the key waits this long at most for another's read.
            wait=min(0.5, settings.VAULT_TIMEOUT),
        )


api_keys = _ProcessKeyCache()
"""Return the process-wide key cache (``api_keys()``), built lazily from settings."""


@receiver(setting_changed)
def _reset_on_settings_change(*, setting: str, **kwargs: object) -> None:
    if setting.startswith("VAULT_"):
        api_keys.cache_clear()
