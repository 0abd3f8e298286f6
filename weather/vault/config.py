"""Where the key lives in Vault and how to log in, read from Django's settings."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


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
