"""renovate.json: valid for the pinned Renovate (renovate-config-validator --strict),
broken copies rejected, and a local extract (`renovate --platform=local
--dry-run=extract`, offline: no registry is asked) shows it manages every pin the
project keeps: the lock files with their hashes, the Dockerfile's base digest and the
same digest in .gitlab-ci.yml, the CI job and service images, the compose images, npm.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from proof.pipeline.support import ROOT, copy_repository, output, run


def validate(config: Path):
    return run(["renovate-config-validator", "--strict", config], check=False)


def test_the_config_is_valid():
    result = validate(ROOT / "renovate.json")
    assert result.returncode == 0, output(result)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda c: c.update(notAnOption=True), "Invalid configuration option: notAnOption"),
        (
            lambda c: c["packageRules"][0].update(allowedVersions="/[/"),
            "Invalid regExp for packageRules[0].allowedVersions",
        ),
    ],
    ids=["unknown option", "invalid version pattern"],
)
def test_a_broken_config_is_rejected(tmp_path, change, why):
    config = json.loads((ROOT / "renovate.json").read_text())
    change(config)
    broken = tmp_path / "renovate.json"
    broken.write_text(json.dumps(config))
    result = validate(broken)
    assert result.returncode != 0, output(result)
    assert why in output(result)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """{manager: {file: deps}} from a local extract of a copy of the repository."""
    repo = copy_repository(tmp_path_factory.mktemp("renovate-repo"))
    git: list[str | Path] = [
        "git",
        "-C",
        repo,
        "-c",
        "user.name=ci",
        "-c",
        "user.email=ci@localhost",
    ]
    run([*git, "init", "--quiet", "--initial-branch=main"])
    run([*git, "add", "--all"])
    run([*git, "commit", "--quiet", "--message", "extract"])
    result = run(
        ["renovate", "--platform=local", "--dry-run=extract", "--onboarding=false"],
        env={"LOG_LEVEL": "debug", "LOG_FORMAT": "json", "RENOVATE_X_IGNORE_NODE_WARN": "true"},
        cwd=repo,
        timeout=300,
    )
    found: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for line in result.stdout.splitlines():
        record = json.loads(line)
        for manager, files in (record.get("packageFiles") or {}).items():
            for file in files:
                found.setdefault(manager, {})[file["packageFile"]] = file["deps"]
    assert found, result.stdout[-3000:]
    return found


def names(deps: list[dict[str, Any]]) -> set[str]:
    return {str(dep.get("depName")) for dep in deps}


def test_every_lock_file_is_managed(extracted):
    locks = {
        str(path.relative_to(ROOT))
        for pattern in ("requirements/*.txt", "proof/requirements/*.txt")
        for path in ROOT.glob(pattern)
    }
    assert set(extracted["pip_requirements"]) == locks
    assert "django" in names(extracted["pip_requirements"]["requirements/base.txt"])


def test_the_base_image_digest_is_managed_in_both_places(extracted):
    (base,) = {
        (d["depName"], d["currentValue"], d["currentDigest"])
        for d in extracted["dockerfile"]["Dockerfile"]
    }
    (ci,) = [
        (d["depName"], d["currentValue"], d["currentDigest"])
        for d in extracted["regex"][".gitlab-ci.yml"]
    ]
    assert base == ci
    assert base[2].startswith("sha256:")


def test_job_service_compose_and_npm_images_are_managed(extracted):
    ci = names(extracted["gitlabci"][".gitlab-ci.yml"])
    assert {
        "quay.io/buildah/stable",
        "quay.io/skopeo/stable",
        "postgres",
        "openbao/openbao",
        "docker.io/alpine/k8s",
        "registry.gitlab.com/gitlab-org/release-cli",
    } <= ci
    assert {"postgres", "openbao/openbao", "nginx"} <= names(
        extracted["docker-compose"]["compose.yaml"]
    )
    assert "gitlab-ci-local" in names(extracted["npm"]["proof/tools/npm/package.json"])
    assert "lighthouse" in names(extracted["npm"]["package.json"])
    # The overlays' digests are the deploy job's to set, never Renovate's.
    assert "kustomize" not in extracted
