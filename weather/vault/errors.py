"""The errors raised while getting the key from Vault: a leaf every other module may import.

::

    VaultError
    ├── VaultNotConfigured      no token, AppRole credentials or Kubernetes role
    ├── VaultUnreachable        connection refused, timeout, DNS
    ├── VaultSealed             the server answers but is sealed (503)
    ├── VaultPermissionDenied   token or AppRole lacks access, or expired
    └── SecretMissing           the path or the field does not exist
"""

from __future__ import annotations


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
