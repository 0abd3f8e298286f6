"""The OpenWeather API key from Vault (KV v2), read at run time and held only in memory.

Dependencies point one way, from the top of this list to the bottom::

    keycache.py   ApiKeyCache: the key for VAULT_KEY_TTL seconds, invalidate() on a 401,
                  one reader at a time, a backoff after failures; ``api_keys()``, the
                  process's one cache, built lazily from settings
    reader.py     VaultKeyReader: log in (AppRole, Kubernetes or a token), read the
                  secret, keep the token alive
    config.py     VaultConfig: where the key lives and how to log in, from settings
    errors.py     VaultError and its subclasses (a leaf)

Nothing here talks to Vault at import time.
"""

from weather.vault.config import VaultConfig
from weather.vault.errors import (
    SecretMissing,
    VaultError,
    VaultNotConfigured,
    VaultPermissionDenied,
    VaultSealed,
    VaultUnreachable,
)
from weather.vault.keycache import ApiKeyCache, api_keys
from weather.vault.reader import VaultKeyReader

__all__ = [
    "ApiKeyCache",
    "SecretMissing",
    "VaultConfig",
    "VaultError",
    "VaultKeyReader",
    "VaultNotConfigured",
    "VaultPermissionDenied",
    "VaultSealed",
    "VaultUnreachable",
    "api_keys",
]
