"""The OpenWeather API key, cached in memory: ``ApiKeyCache`` and the process's ``api_keys``.

Nothing here talks to Vault at import time. The key lives in exactly one place,
an ``ApiKeyCache``, for at most ``VAULT_KEY_TTL`` seconds; the OpenWeather client
calls ``invalidate()`` when the upstream rejects it, which is how a rotated key is
picked up without a restart. One thread at a time reads Vault, without holding the
cache's lock, and a failed read is not repeated before a short, growing backoff
(``VAULT_RETRY_BACKOFF``): a slow or dead Vault costs each worker one connection per
window, never a queue of threads.

Logging in, reading the secret and keeping the token alive is ``reader.py``'s part.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable

from django.conf import settings

from weather import metrics
from weather.caching import Lazy
from weather.redaction import ApiKey
from weather.vault.config import VaultConfig
from weather.vault.errors import (
    SecretMissing,
    VaultError,
    VaultNotConfigured,
    VaultPermissionDenied,
    VaultSealed,
    VaultUnreachable,
)
from weather.vault.reader import VaultKeyReader

logger = logging.getLogger(__name__)


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
            metrics.vault_read(outcome=read_outcome(exc))
            raise
        except BaseException:
            self._finish(generation)
            raise
        self._finish(generation, key=key)
        metrics.vault_read(outcome="ok")
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


def read_outcome(error: VaultError) -> str:
    """The outcome label of weather_vault_reads_total for a read that failed with ``error``."""
    for kind, outcome in (
        (VaultPermissionDenied, "denied"),
        (VaultSealed, "sealed"),
        (SecretMissing, "missing"),
        (VaultNotConfigured, "not_configured"),
        (VaultUnreachable, "unreachable"),
    ):
        if isinstance(error, kind):
            return outcome
    return "error"


def _again(failure: VaultError) -> VaultError:
    """A fresh copy of a remembered error (one exception object is not raised in many threads)."""
    again = type(failure)(*failure.args)
    again.__cause__ = failure.__cause__
    return again


def _from_settings() -> ApiKeyCache:
    reader = VaultKeyReader(VaultConfig.from_settings())
    return ApiKeyCache(
        read=reader.read,
        ttl=settings.VAULT_KEY_TTL,
        backoff=settings.VAULT_RETRY_BACKOFF,
        backoff_max=settings.VAULT_RETRY_BACKOFF_MAX,
        # A request needing the key waits this long at most for another's read.
        wait=min(0.5, settings.VAULT_TIMEOUT),
    )


# Built once per process, however the first requests race: each cache built would read
# Vault on its own, ignoring the others' backoff. Cleared with the VAULT_ settings (and
# so the token with it).
api_keys: Lazy[ApiKeyCache] = Lazy(_from_settings, name="vault.api_keys", cleared_by=("VAULT_",))
"""Return the process-wide key cache (``api_keys()``), built lazily from settings."""
