"""scripts/ci/deploy and scripts/ci/verify-image, against the loopback registry
(proof/pipeline/conftest.py) and a kubectl whose cluster is a file
(proof/tools/kubectl-stand-in): no cluster runs here.

What reaches the cluster is what release signed, by digest: the signature is checked
before anything is applied, and an unsigned image, one signed by another key, or one
named by tag is refused with the cluster untouched. The migration Job is applied and
completes before the new pods are; the job fails when the migration or the rollout
does not finish; a rollback brings back the digest that ran before.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from proof.pipeline.support import PROOF_TOOLS, ROOT, SCRIPTS, output, run, small_image

STAND_IN = PROOF_TOOLS / "kubectl-stand-in"
MAIN = {"CI_COMMIT_REF_PROTECTED": "true", "CI_DEFAULT_BRANCH": "main", "CI_COMMIT_BRANCH": "main"}
NAMESPACES = {"staging": "weather-staging", "production": "weather"}


def digest(reference: str) -> str:
    return run(["skopeo", "inspect", "--format", "{{.Digest}}", reference]).stdout.strip()


@pytest.fixture(scope="module")
def repository(registry: str) -> str:
    return f"{registry}/weather-deploy-{secrets.token_hex(3)}"


@pytest.fixture(scope="module")
def images(repository: str, release_key, other_key, tmp_path_factory) -> dict[str, str]:
    """Four images as build pushes them; release signs a and b with the release key,
    c is released by a pipeline holding another key, d is never released. {name: digest}"""
    found = {}
    for name in "abcd":
        layout = small_image(
            tmp_path_factory.mktemp(f"image-{name}"), f"{name}-{secrets.token_hex(4)}"
        )
        run(["skopeo", "copy", "--quiet", layout, f"docker://{repository}:build-{name}"])
        found[name] = digest(f"docker://{repository}:build-{name}")
    for name, key in (("a", release_key), ("b", release_key), ("c", other_key)):
        released = run(
            [SCRIPTS / "release-image"],
            env={
                "SOURCE_IMAGE": f"docker://{repository}@{found[name]}",
                "IMAGE_DIGEST": found[name],
                "TARGET_REPO": f"docker://{repository}",
                **MAIN,
                **key.release_env(),
                # release checks what it signed with the key's public half, as deploy will.
                "SIGNING_PUBLIC_KEY": str(key.public),
            },
            check=False,
        )
        assert released.returncode == 0, output(released)
    return found


def verify(image: str, key) -> subprocess.CompletedProcess[str]:
    return run(
        [SCRIPTS / "verify-image"],
        env={"IMAGE": image, "SIGNING_PUBLIC_KEY": str(key.public)},
        check=False,
    )


def test_a_digest_signed_by_the_release_key_verifies(repository, images, release_key):
    result = verify(f"{repository}@{images['a']}", release_key)
    assert result.returncode == 0, output(result)
    assert "is signed by the release key" in result.stdout


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("d", "no signature at all"),
        ("c", "signed by another key"),
    ],
)
def test_verification_refuses(repository, images, release_key, name, why):
    result = verify(f"{repository}@{images[name]}", release_key)
    assert result.returncode != 0, f"{why}: accepted\n{output(result)}"
    assert "verify-image: refused:" in result.stderr


def test_verification_refuses_a_tag_even_of_a_signed_image(repository, images, release_key):
    result = verify(f"{repository}:build-a", release_key)
    assert result.returncode != 0
    assert "is not an image by digest" in result.stderr


class Cluster:
    """A kubectl stand-in's cluster, and a skopeo that logs to the same call log."""

    def __init__(self, root: Path) -> None:
        self.state = root / "cluster"
        self.state.mkdir()
        bin_dir = root / "bin"
        bin_dir.mkdir()
        (bin_dir / "kubectl").symlink_to(STAND_IN)
        skopeo = shutil.which("skopeo")
        (bin_dir / "skopeo").write_text(
            "#!/usr/bin/env python3\n"
            "import json, os, sys\n"
            f"with open({str(self.state / 'calls.jsonl')!r}, 'a') as log:\n"
            "    log.write(json.dumps({'tool': 'skopeo', 'args': sys.argv[1:]}) + '\\n')\n"
            f"os.execv({skopeo!r}, [{skopeo!r}, *sys.argv[1:]])\n"
        )
        (bin_dir / "skopeo").chmod(0o755)
        real_kubectl = shutil.which("kubectl") or str(ROOT / ".venv-k8s" / "bin" / "kubectl")
        assert Path(real_kubectl).exists(), (
            "no kubectl to render with (make k8s-check installs one)"
        )
        (root / "kubeconfig").write_text("")
        self.env = {
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "KUBECTL_STAND_IN": str(self.state),
            "REAL_KUBECTL": real_kubectl,
            "KUBECONFIG": str(root / "kubeconfig"),
        }

    def outcomes(self, **outcomes: str) -> None:
        (self.state / "outcomes.json").write_text(json.dumps(outcomes))

    def calls(self) -> list[dict[str, Any]]:
        path = self.state / "calls.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def objects(self) -> dict[str, Any]:
        path = self.state / "cluster.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def deployment(self, environment: str) -> dict[str, Any]:
        found: dict[str, Any] = self.objects()[f"Deployment/{NAMESPACES[environment]}/weather-web"]
        return found


@pytest.fixture
def cluster(tmp_path: Path) -> Cluster:
    return Cluster(tmp_path)


def deploy(
    cluster: Cluster, environment: str, *args: str, key, **env: str
) -> subprocess.CompletedProcess[str]:
    """The deploy job as GitLab runs it, against the stand-in's cluster."""
    return run(
        [SCRIPTS / "deploy", *args],
        env={
            **cluster.env,
            "DEPLOY_ENVIRONMENT": environment,
            "SIGNING_PUBLIC_KEY": str(key.public),
            "KUBE_CONTEXT": f"group/weather:{environment}",
            **env,
        },
        check=False,
        timeout=300,
    )


def kubectl_calls(calls: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    return [
        (c["verb"], [o.split("/")[0] for o in c["objects"]])
        for c in calls
        if c["tool"] == "kubectl"
    ]


def position(calls: list[dict[str, Any]], verb: str, kind: str) -> int:
    return next(
        i
        for i, c in enumerate(calls)
        if c["tool"] == "kubectl"
        and c["verb"] == verb
        and any(o.startswith(kind + "/") for o in c["objects"])
    )


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_deploy_verifies_then_migrates_then_rolls_out_the_digest(
    cluster, repository, images, release_key, environment
):
    image = f"{repository}@{images['a']}"
    result = deploy(cluster, environment, key=release_key, DEPLOY_IMAGE=image)
    assert result.returncode == 0, output(result)
    calls = cluster.calls()

    # The signature check (skopeo under a policy, on this digest) before any change.
    checks = [
        i
        for i, c in enumerate(calls)
        if c["tool"] == "skopeo" and "--policy" in c["args"] and f"docker://{image}" in c["args"]
    ]
    changes = [i for i, c in enumerate(calls) if c.get("verb") in ("apply", "delete")]
    assert checks, calls
    assert changes, calls
    assert checks[0] < changes[0], calls

    # Every object applied carries the digest, and nothing else runs.
    applied = [c for c in calls if c.get("verb") == "apply"]
    assert {i for c in applied for i in c["images"]} == {image}
    kinds = {o.split("/")[0] for c in applied for o in c["objects"]}
    assert {"Namespace", "ConfigMap", "Job", "Deployment", "CronJob", "NetworkPolicy"} <= kinds
    assert all(
        c["context"] == f"group/weather:{environment}" for c in calls if c["tool"] == "kubectl"
    )

    # The migration Job is applied and awaited before the Deployment is applied.
    assert (
        position(calls, "apply", "Job")
        < position(calls, "wait", "Job")
        < position(calls, "apply", "Deployment")
        < position(calls, "rollout status", "Deployment")
    ), kubectl_calls(calls)
    assert position(calls, "wait", "Job") < position(calls, "apply", "CronJob")

    live = cluster.deployment(environment)
    assert live["metadata"]["namespace"] == NAMESPACES[environment]
    assert {c["image"] for c in live["spec"]["template"]["spec"]["containers"]} == {image}
    assert live["metadata"]["annotations"]["weather-dashboard/digest"] == images["a"]


@pytest.mark.parametrize("name", ["d", "c"], ids=["unsigned", "signed by another key"])
def test_an_image_without_the_release_signature_never_reaches_the_cluster(
    cluster, repository, images, release_key, name
):
    result = deploy(
        cluster, "staging", key=release_key, DEPLOY_IMAGE=f"{repository}@{images[name]}"
    )
    assert result.returncode != 0, output(result)
    assert "verify-image: refused:" in result.stderr
    assert [c for c in cluster.calls() if c["tool"] == "kubectl"] == []
    assert cluster.objects() == {}


def test_a_tag_is_refused_before_anything_else(cluster, repository, images, release_key):
    result = deploy(cluster, "staging", key=release_key, DEPLOY_IMAGE=f"{repository}:build-a")
    assert result.returncode != 0
    assert "is not an image by digest" in result.stderr
    assert cluster.calls() == []


def test_a_failed_migration_fails_the_job_before_any_new_pod(
    cluster, repository, images, release_key
):
    cluster.outcomes(job="fail")
    result = deploy(cluster, "staging", key=release_key, DEPLOY_IMAGE=f"{repository}@{images['a']}")
    assert result.returncode != 0
    assert "the migration Job did not complete" in result.stderr
    verbs = kubectl_calls(cluster.calls())
    assert ("apply", ["Job"]) in verbs
    assert not any("Deployment" in kinds and verb == "apply" for verb, kinds in verbs)


def test_a_rollout_that_does_not_finish_fails_the_job(cluster, repository, images, release_key):
    cluster.outcomes(rollout="fail")
    result = deploy(cluster, "staging", key=release_key, DEPLOY_IMAGE=f"{repository}@{images['a']}")
    assert result.returncode != 0
    assert "did not finish" in result.stderr


def test_the_next_release_replaces_the_finished_migration_job_by_itself(
    cluster, repository, images, release_key
):
    first = deploy(cluster, "staging", key=release_key, DEPLOY_IMAGE=f"{repository}@{images['a']}")
    assert first.returncode == 0, output(first)
    job_file = cluster.state.parent / "job.json"
    (job,) = [o for k, o in cluster.objects().items() if k.startswith("Job/")]
    # The stand-in refuses a changed pod template, as the API server does ...
    job["spec"]["template"]["spec"]["containers"][0]["image"] = f"{repository}@{images['b']}"
    job_file.write_text(json.dumps(job))
    refused = run(["kubectl", "apply", "-f", job_file], env=cluster.env, check=False)
    assert "field is immutable" in refused.stderr
    # ... and the next deploy gets past it with no one deleting the Job by hand.
    before = len(cluster.calls())
    second = deploy(cluster, "staging", key=release_key, DEPLOY_IMAGE=f"{repository}@{images['b']}")
    assert second.returncode == 0, output(second)
    calls = cluster.calls()[before:]
    assert position(calls, "delete", "Job") < position(calls, "apply", "Job")


def test_rollback_redeploys_the_previous_digest_verified_again(
    cluster, repository, images, release_key
):
    a, b = images["a"], images["b"]
    for name in "ab":
        done = deploy(
            cluster, "staging", key=release_key, DEPLOY_IMAGE=f"{repository}@{images[name]}"
        )
        assert done.returncode == 0, output(done)
    annotations = cluster.deployment("staging")["metadata"]["annotations"]
    assert (
        annotations["weather-dashboard/digest"],
        annotations["weather-dashboard/previous-digest"],
    ) == (b, a)

    before = len(cluster.calls())
    back = deploy(cluster, "staging", "--rollback", key=release_key, IMAGE_REPOSITORY=repository)
    assert back.returncode == 0, output(back)
    assert f"rolling staging back to {a}" in back.stdout
    calls = cluster.calls()[before:]
    verified = [
        c for c in calls if c["tool"] == "skopeo" and f"docker://{repository}@{a}" in c["args"]
    ]
    assert verified, calls
    assert calls.index(verified[0]) < position(calls, "apply", "Job")
    live = cluster.deployment("staging")
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == f"{repository}@{a}"
    annotations = live["metadata"]["annotations"]
    assert (
        annotations["weather-dashboard/digest"],
        annotations["weather-dashboard/previous-digest"],
    ) == (a, b)

    # Rolling back again returns to where it started.
    again = deploy(cluster, "staging", "--rollback", key=release_key, IMAGE_REPOSITORY=repository)
    assert again.returncode == 0, output(again)
    assert cluster.deployment("staging")["metadata"]["annotations"]["weather-dashboard/digest"] == b


def test_a_retry_of_the_same_digest_keeps_what_to_roll_back_to(
    cluster, repository, images, release_key
):
    for name in "abb":
        done = deploy(
            cluster, "staging", key=release_key, DEPLOY_IMAGE=f"{repository}@{images[name]}"
        )
        assert done.returncode == 0, output(done)
    annotations = cluster.deployment("staging")["metadata"]["annotations"]
    assert annotations["weather-dashboard/previous-digest"] == images["a"]


def test_rollback_with_nothing_before_is_refused(cluster, repository, images, release_key):
    done = deploy(cluster, "staging", key=release_key, DEPLOY_IMAGE=f"{repository}@{images['a']}")
    assert done.returncode == 0, output(done)
    before = len(cluster.calls())
    back = deploy(cluster, "staging", "--rollback", key=release_key, IMAGE_REPOSITORY=repository)
    assert back.returncode != 0
    assert "nothing to roll back to" in back.stderr
    assert all(c.get("verb") not in ("apply", "delete") for c in cluster.calls()[before:])
