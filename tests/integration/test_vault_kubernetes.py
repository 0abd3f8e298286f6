"""Vault's Kubernetes login against a real OpenBao, with a TokenReview stand-in.

OpenBao's kubernetes auth method is configured as for a cluster (API server address,
CA, reviewer token); the cluster is tests/fakes/tokenreview.py, which mints projected
service account tokens and answers OpenBao's TokenReviews for them. Everything else is
real: OpenBao, its policies, the app's reader, Django and the fake upstream over HTTP.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import hvac
import hvac.exceptions
import pytest

from tests.fakes.tokenreview import FakeTokenReview
from tests.support.openbao import OpenBaoServer
from weather.vault import VaultConfig, VaultKeyReader, VaultPermissionDenied, api_keys

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

NAMESPACE, SERVICE_ACCOUNT, ROLE = "weather", "weather-web", "weather"


@pytest.fixture(scope="module")
def cluster() -> Iterator[FakeTokenReview]:
    with FakeTokenReview() as fake:
        yield fake


@pytest.fixture
def kubernetes_auth(openbao_server: OpenBaoServer, cluster, vault_token) -> OpenBaoServer:
    """OpenBao trusting the cluster, with the role of docs/how-to/vault.md: the key's
    policy, one account."""
    # vault_token has (re)written the key and its read-only policy, `weather-read`.
    openbao_server.enable_kubernetes_auth(
        host=cluster.url, ca_pem=cluster.ca_pem, reviewer_jwt=cluster.reviewer_token
    )
    openbao_server.create_kubernetes_role(
        role=ROLE, policy="weather-read", namespace=NAMESPACE, service_account=SERVICE_ACCOUNT
    )
    return openbao_server


def token_file(tmp_path: Path, token: str) -> Path:
    """Where the kubelet would mount the projected token."""
    path = tmp_path / "token"
    path.write_text(token)
    return path


def reader_for(server: OpenBaoServer, path: Path, *, role: str = ROLE) -> VaultKeyReader:
    config = VaultConfig(
        addr=server.addr,
        kv_mount="secret",
        secret_path="weather",
        secret_key="openweather_api_key",
        k8s_role=role,
        k8s_token_path=str(path),
    )
    return VaultKeyReader(config, keep_alive=False)


def test_a_service_account_token_gets_a_token_that_reads_only_the_key(kubernetes_auth, cluster):
    client = hvac.Client(url=kubernetes_auth.addr, token="")
    jwt = cluster.mint(namespace=NAMESPACE, name=SERVICE_ACCOUNT)
    auth = client.auth.kubernetes.login(role=ROLE, jwt=jwt)["auth"]
    assert auth["policies"] == ["weather-read"]
    assert auth["metadata"]["service_account_namespace"] == NAMESPACE
    assert cluster.reviews[-1] == {"token": jwt, "audiences": ["vault"]}

    secret = client.secrets.kv.v2.read_secret_version(
        path="weather", mount_point="secret", raise_on_deleted_version=True
    )
    assert set(secret["data"]["data"]) == {"openweather_api_key"}
    kubernetes_auth.write_secret(mount="secret", path="other", data={"x": "y"})
    with pytest.raises(hvac.exceptions.Forbidden):
        client.secrets.kv.v2.read_secret_version(
            path="other", mount_point="secret", raise_on_deleted_version=True
        )
    with pytest.raises(hvac.exceptions.Forbidden):
        client.secrets.kv.v2.create_or_update_secret(
            path="weather", secret={"openweather_api_key": "x"}, mount_point="secret"
        )
    with pytest.raises(hvac.exceptions.Forbidden):
        client.sys.list_acl_policies()  # type: ignore[no-untyped-call]


@pytest.mark.parametrize(
    ("namespace", "name", "audiences"),
    [
        ("default", SERVICE_ACCOUNT, ("vault",)),  # right account, wrong namespace
        (NAMESPACE, "default", ("vault",)),  # another account in the namespace
        (NAMESPACE, SERVICE_ACCOUNT, ("https://kubernetes.default.svc",)),  # an API token
    ],
    ids=["wrong-namespace", "wrong-service-account", "wrong-audience"],
)
def test_other_service_accounts_are_denied(
    kubernetes_auth, cluster, tmp_path, namespace, name, audiences
):
    jwt = cluster.mint(namespace=namespace, name=name, audiences=audiences)
    reader = reader_for(kubernetes_auth, token_file(tmp_path, jwt))
    with pytest.raises(VaultPermissionDenied, match="Kubernetes login"):
        reader.read()


def test_a_token_the_cluster_did_not_issue_is_denied(kubernetes_auth, cluster, tmp_path):
    genuine = cluster.mint(namespace=NAMESPACE, name=SERVICE_ACCOUNT)
    # The right claims, another signature: only the cluster's review can tell.
    forged = genuine.rsplit(".", 1)[0] + "." + genuine.rsplit(".", 1)[1][::-1]
    reviews = len(cluster.reviews)
    with pytest.raises(VaultPermissionDenied):
        reader_for(kubernetes_auth, token_file(tmp_path, forged)).read()
    # Asked, and refused (the reader tries a refused login once more, as for AppRole).
    assert cluster.reviews[reviews:]
    assert all(review["token"] == forged for review in cluster.reviews[reviews:])


def test_an_expired_vault_token_logs_in_again_with_the_rotated_service_account_token(
    kubernetes_auth, cluster, tmp_path
):
    kubernetes_auth.create_kubernetes_role(
        role="weather-short",
        policy="weather-read",
        namespace=NAMESPACE,
        service_account=SERVICE_ACCOUNT,
        token_ttl="2s",
        token_max_ttl="2s",
    )
    first = cluster.mint(namespace=NAMESPACE, name=SERVICE_ACCOUNT)
    path = token_file(tmp_path, first)
    reader = reader_for(kubernetes_auth, path, role="weather-short")
    assert reader.read()
    second = cluster.mint(namespace=NAMESPACE, name=SERVICE_ACCOUNT)
    path.write_text(second)  # the kubelet rotated the projected token
    time.sleep(2.2)
    assert reader.read()
    assert [review["token"] for review in cluster.reviews[-2:]] == [first, second]


def test_the_app_serves_a_lookup_through_a_kubernetes_login(
    client, live_settings, kubernetes_auth, cluster, fake_upstream, tmp_path
):
    jwt = cluster.mint(namespace=NAMESPACE, name=SERVICE_ACCOUNT)
    live_settings.VAULT_TOKEN = ""
    live_settings.VAULT_K8S_ROLE = ROLE
    live_settings.VAULT_K8S_TOKEN_PATH = str(token_file(tmp_path, jwt))
    reviews = len(cluster.reviews)

    response = client.get("/api/weather", {"q": "Zurich"})
    assert response.status_code == 200
    assert response.json()["source"] == "upstream"
    assert fake_upstream.call_counts()["weather"] == 1
    assert api_keys().reads == 1
    assert cluster.reviews[reviews:] == [{"token": jwt, "audiences": ["vault"]}]
    assert client.get("/readyz").status_code == 200
