"""The OpenWeather API key, read from Vault (KV v2) at run time and cached in memory.

Nothing here talks to Vault at import time. The key lives in exactly one place,
an ``ApiKeyCache``, for at most ``VAULT_KEY_TTL`` seconds; the OpenWeather client
calls ``invalidate()`` when the upstream rejects it, which is how a rotated key is
picked up without a restart. Errors::

    VaultError
    ├── VaultNotConfigured      no token and no AppRole credentials
    ├── VaultUnreachable        connection refused, timeout, DNS
    ├── VaultSealed             the server answers but is sealed (503)
    ├── VaultPermissionDenied   token or AppRole lacks access, or expired
    └── SecretMissing           the path or the field does not exist
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import hvac
import hvac.exceptions
import requests
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from weather.redaction import ApiKey

logger = logging.getLogger(__name__)


class VaultError(Exception):
    """Base of every error raised while getting the key from Vault."""

    code = "vault_unavailable"


class VaultNotConfigured(VaultError):
    """Neither VAULT_TOKEN nor AppRole credentials are set."""


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
            cacert=settings.VAULT_CACERT,
            timeout=settings.VAULT_TIMEOUT,
        )

    @property
    def uses_approle(self) -> bool:
        return bool(self.role_id and (self.secret_id or self.secret_id_file))

    @property
    def location(self) -> str:
        return f"{self.kv_mount}/{self.secret_path}#{self.secret_key}"


def _read_file(path: str, what: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError as exc:
        raise VaultNotConfigured(f"Cannot read {what} from {path}: {exc.strerror}") from exc


class VaultKeyReader:
    """Read the key from KV v2, logging in with a token or AppRole as configured."""

    def __init__(self, config: VaultConfig, *, session: requests.Session | None = None) -> None:
        self.config = config
        self._session = session
        self._client: hvac.Client | None = None

    def read(self) -> str:
        """Return the key, logging in again once if an AppRole token has expired."""
        try:
            return self._read_secret()
        except VaultPermissionDenied:
            if not self.config.uses_approle:
                raise
            logger.info("Vault refused the AppRole token; logging in again")
            self._client = None
            return self._read_secret()

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
        except (
            hvac.exceptions.Unauthorized,
            hvac.exceptions.Forbidden,
            # An AppRole login with a wrong or used-up secret ID answers 400.
            hvac.exceptions.InvalidRequest,
        ) as exc:
            raise VaultPermissionDenied(f"Vault denied access to {config.location}") from exc
        except hvac.exceptions.InvalidPath as exc:
            raise SecretMissing(f"No secret at {config.kv_mount}/{config.secret_path}") from exc
        except (hvac.exceptions.VaultDown, hvac.exceptions.VaultNotInitialized) as exc:
            raise VaultSealed(f"Vault at {config.addr} is sealed or not initialised") from exc
        except hvac.exceptions.VaultError as exc:
            raise VaultUnreachable(f"Vault at {config.addr} answered an error") from exc
        except requests.RequestException as exc:
            raise VaultUnreachable(f"Cannot reach Vault at {config.addr}") from exc

        data = (response or {}).get("data") or {}
        value = (data.get("data") or {}).get(config.secret_key)
        if not isinstance(value, str) or not value.strip():
            raise SecretMissing(f"Field {config.secret_key!r} missing in {config.location}")
        return value.strip()

    def _authenticated_client(self) -> hvac.Client:
        if self._client is not None:
            return self._client
        config = self.config
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
        if config.uses_approle:
            secret_id = config.secret_id or _read_file(
                config.secret_id_file, "the AppRole secret ID"
            )
            client.auth.approle.login(
                role_id=config.role_id,
                secret_id=secret_id,
                mount_point=config.approle_mount,
            )
        elif config.token or config.token_file:
            client.token = config.token or _read_file(config.token_file, "the Vault token")
        else:
            raise VaultNotConfigured(
                "Set VAULT_TOKEN (or VAULT_TOKEN_FILE), or VAULT_ROLE_ID with "
                "VAULT_SECRET_ID (or VAULT_SECRET_ID_FILE)"
            )
        self._client = client
        return client


class ApiKeyCache:
    """Hold the key in memory for ``ttl`` seconds; re-read it after ``invalidate()``."""

    def __init__(
        self,
        *,
        read: Callable[[], str],
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read = read
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._key: ApiKey | None = None
        self._expires_at = 0.0
        self.reads = 0

    def __repr__(self) -> str:
        return f"<ApiKeyCache cached={self._key is not None} reads={self.reads}>"

    def get(self) -> ApiKey:
        """Return the cached key, reading it from Vault when absent or expired."""
        with self._lock:
            if self._key is not None and self._clock() < self._expires_at:
                return self._key
            self._key = None
            key = ApiKey(self._read())
            self.reads += 1
            # Operators (and the benchmark) count these lines: one per worker per TTL is normal.
            logger.info("read the OpenWeather API key from Vault")
            self._key = key
            self._expires_at = self._clock() + self._ttl
            return key

    def invalidate(self) -> None:
        """Forget the key so the next ``get()`` reads Vault again."""
        with self._lock:
            self._key = None
            self._expires_at = 0.0

    @property
    def is_cached(self) -> bool:
        with self._lock:
            return self._key is not None and self._clock() < self._expires_at


@functools.cache
def api_keys() -> ApiKeyCache:
    """Return the process-wide key cache, built lazily from settings."""
    reader = VaultKeyReader(VaultConfig.from_settings())
    return ApiKeyCache(read=reader.read, ttl=settings.VAULT_KEY_TTL)


@receiver(setting_changed)
def _reset_on_settings_change(*, setting: str, **kwargs: object) -> None:
    if setting.startswith("VAULT_"):
        api_keys.cache_clear()
