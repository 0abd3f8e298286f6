"""What the rendered overlays promise, checked where a linter has no rule for it.

The secret scan reads the rendered text, so a key slipped in through any overlay,
patch or generator is caught, not only one in base/.
"""

from __future__ import annotations

import re
from typing import Any

from proof.k8s.conftest import Rendered

# What the web pods' projected token is for; the Vault role is bound to it (docs/how-to/vault.md).
VAULT_AUDIENCE = "vault"

KEY_LIKE = [
    # An OpenWeather key: 32 hex digits.
    re.compile(r"(?<![0-9a-fA-F])[0-9a-fA-F]{32}(?![0-9a-fA-F])"),
    # Vault tokens (service, batch, recovery, legacy).
    re.compile(r"\b(?:hv[sbr]|s|b|r)\.[A-Za-z0-9_-]{20,}"),
    # Base64 or similar blobs long enough to hold a credential.
    re.compile(r"[A-Za-z0-9+/_-]{40,}={0,2}"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    # A URL with a password in it (postgres://user:pass@host).
    re.compile(r"://[^/\s:@]+:[^/\s@]+@"),
    # A credential-named field with a value on the same line.
    re.compile(
        r"(?i)(api[_-]?key|appid|password|passwd|secret[_-]?id|token)[ \t]*[=:][ \t]*\S{8,}"
    ),
]
# An image digest is 64 hex digits by design: not a secret.
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}")


def key_like(text: str) -> list[str]:
    """Every substring of ``text`` that looks like a credential."""
    text = DIGEST.sub("@sha256:DIGEST", text)
    return [match.group(0) for pattern in KEY_LIKE for match in pattern.finditer(text)]


def test_nothing_key_like_is_in_the_manifests(rendered: Rendered):
    assert key_like(rendered.text) == []


def test_the_scan_finds_planted_keys():
    for planted in [
        "OPENWEATHER_API_KEY: 0123456789abcdef0123456789abcdef",
        "VAULT_TOKEN=hvs.CAESIJkP3x9qQmW4bZr8tYd2LkNfVhGcXsAe",
        "url: postgres://weather:hunter2hunter2@db:5432/weather",
        "data: {secret-key: ZGphbmdvLWluc2VjdXJlLXRoaXMtaXMtYS10ZXN0LWtleQ==}",
    ]:
        assert key_like(planted), planted
    assert key_like("image: r/w@sha256:" + "0" * 64) == []


def test_no_secret_objects_and_no_key_anywhere(rendered: Rendered):
    # Secrets are referenced (secretKeyRef), created outside these manifests.
    assert rendered.all("Secret") == []
    assert "OPENWEATHER_API_KEY" not in rendered.text
    config = rendered.one("ConfigMap")["data"]
    assert not any("KEY" in name and name != "VAULT_SECRET_KEY" for name in config)
    assert not any(name.startswith("VAULT_TOKEN") for name in config)


def pod_specs(rendered: Rendered) -> dict[str, dict[str, Any]]:
    specs = {}
    for doc in rendered.documents:
        if doc["kind"] in {"Deployment", "Job"}:
            specs[doc["metadata"]["name"]] = doc["spec"]["template"]["spec"]
        elif doc["kind"] == "CronJob":
            specs[doc["metadata"]["name"]] = doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return specs


def test_every_pod_is_locked_down(rendered: Rendered):
    specs = pod_specs(rendered)
    assert set(specs) == {
        "weather-web",
        "weather-migrate",
        "weather-purge",
        "weather-clearsessions",
    }
    for name, spec in specs.items():
        assert spec["automountServiceAccountToken"] is False, name
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        for container in spec["containers"] + spec.get("initContainers", []):
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["capabilities"] == {"drop": ["ALL"]}, name
            assert context["runAsUser"] != 0, name
            assert set(container["resources"]) == {"requests", "limits"}, name
            assert {"cpu", "memory"} <= set(container["resources"]["limits"]), name
            # The secrets arrive by reference only.
            for variable in container.get("env", []):
                assert "value" not in variable or not variable["name"].endswith(
                    ("KEY", "URL", "TOKEN")
                ), variable
            # The root filesystem is read-only; /tmp is a small in-memory volume.
            tmp = {"name": "tmp", "mountPath": "/tmp"}  # noqa: S108
            assert tmp in container["volumeMounts"], name


def test_only_the_web_pods_hold_a_token_and_it_is_for_vault(rendered: Rendered):
    specs = pod_specs(rendered)
    web = specs.pop("weather-web")
    assert web["serviceAccountName"] == "weather-web"
    (projected,) = [v for v in web["volumes"] if "projected" in v]
    (source,) = projected["projected"]["sources"]
    token = source["serviceAccountToken"]
    assert token["audience"] == VAULT_AUDIENCE
    assert token["expirationSeconds"] <= 3600
    config = rendered.one("ConfigMap")["data"]
    mount = next(m for m in web["containers"][0]["volumeMounts"] if m["name"] == projected["name"])
    assert mount["readOnly"] is True
    assert config["VAULT_K8S_TOKEN_PATH"] == f"{mount['mountPath']}/{token['path']}"
    for name, spec in specs.items():
        assert spec["serviceAccountName"] == "weather-jobs", name
        assert not any("projected" in v for v in spec.get("volumes", [])), name


def test_web_rolls_out_safely_and_probes_the_right_paths(rendered: Rendered):
    deployment = rendered.one("Deployment", "weather-web")
    assert deployment["spec"]["replicas"] >= 2
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    (web,) = deployment["spec"]["template"]["spec"]["containers"]
    assert web["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert web["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"
    # The probes' Host header must be one the app accepts.
    allowed = rendered.one("ConfigMap")["data"]["DJANGO_ALLOWED_HOSTS"].split(",")
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        headers = {h["name"]: h["value"] for h in web[probe]["httpGet"]["httpHeaders"]}
        assert headers["Host"] in allowed
    (init,) = deployment["spec"]["template"]["spec"]["initContainers"]
    assert "migrate --check" in " ".join(init["command"])
    hpa = rendered.one("HorizontalPodAutoscaler")
    assert hpa["spec"]["minReplicas"] >= 2
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    assert rendered.one("PodDisruptionBudget")["spec"]["maxUnavailable"] == 1


def test_the_ingress_serves_https_with_a_cluster_issued_certificate(rendered: Rendered):
    ingress = rendered.one("Ingress")
    assert ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"]
    (tls,) = ingress["spec"]["tls"]
    (rule,) = ingress["spec"]["rules"]
    assert tls["hosts"] == [rule["host"]]
    allowed = rendered.one("ConfigMap")["data"]["DJANGO_ALLOWED_HOSTS"].split(",")
    assert rule["host"] in allowed


def test_network_policy_lets_only_the_ingress_in(rendered: Rendered):
    policies = {p["metadata"]["name"]: p["spec"] for p in rendered.all("NetworkPolicy")}
    assert policies["default-deny"] == {
        "podSelector": {},
        "policyTypes": ["Ingress", "Egress"],
    }
    (inbound,) = policies["weather-web"]["ingress"]
    (source,) = inbound["from"]
    assert source["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "ingress-nginx"
    }
    ports = sorted(
        port["port"] for rule in policies["weather-web"]["egress"] for port in rule["ports"]
    )
    assert ports == [53, 53, 443, 5432, 8200]
    assert policies["weather-jobs"]["ingress"] == []
    job_ports = sorted(
        port["port"] for rule in policies["weather-jobs"]["egress"] for port in rule["ports"]
    )
    assert job_ports == [53, 53, 5432]


def test_the_jobs_run_the_project_commands(rendered: Rendered):
    migrate = rendered.one("Job", "weather-migrate")
    command = migrate["spec"]["template"]["spec"]["containers"][0]["command"]
    assert command == ["python3", "manage.py", "migrate", "--no-input"]
    commands = {
        job["metadata"]["name"]: job["spec"]["jobTemplate"]["spec"]["template"]["spec"][
            "containers"
        ][0]["command"][-1]
        for job in rendered.all("CronJob")
    }
    assert commands == {"weather-purge": "purge_weather", "weather-clearsessions": "clearsessions"}
    for job in rendered.all("CronJob"):
        assert job["spec"]["concurrencyPolicy"] == "Forbid"
