"""The app's shared fixtures, for the proofs too: each test starts with a new worker's
memory, and the fleet and proxy proofs use the same real OpenBao, fake upstream and
collected static files as the integration tests. Imported by name from
tests/conftest.py, the one place they are defined."""

from tests.conftest import (
    fake_upstream,
    fake_upstream_server,
    fresh_process_caches,
    openbao_server,
    server_env,
    static_root,
    vault_token,
)

__all__ = [
    "fake_upstream",
    "fake_upstream_server",
    "fresh_process_caches",
    "openbao_server",
    "server_env",
    "static_root",
    "vault_token",
]
