"""The rendered overlays pass the Kubernetes API schemas (offline) and checkov."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from proof.k8s.conftest import DEPLOY, Rendered, tool

# The newest release whose schemas the pinned kubernetes-validate ships, and the
# oldest this deployment is written for (the sleep preStop action is on by default
# from 1.30; 1.32 is what the machine image's kubectl speaks).
KUBERNETES_VERSIONS = ("1.37.0", "1.32.0")


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_object_matches_the_api_schema(rendered: Rendered, version):
    result = subprocess.run(
        [tool("kubernetes-validate"), "--strict", "--kubernetes-version", version, rendered.path],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # Each object was checked, none passed unseen.
    assert result.stdout.count(" passed for resource ") == len(rendered.documents), result.stdout


def test_the_schema_check_rejects_a_misspelt_field(rendered: Rendered, tmp_path):
    """The check is not vacuous: one wrong key in the Deployment fails it."""
    broken = tmp_path / "broken.yaml"
    broken.write_text(rendered.text.replace("readOnlyRootFilesystem:", "readOnlyRootFileSystem:"))
    result = subprocess.run(
        [tool("kubernetes-validate"), "--strict", broken],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "readOnlyRootFileSystem" in result.stdout + result.stderr


def offline() -> list[str]:
    """Run a command without any network, where this user may (root, util-linux)."""
    unshare = shutil.which("unshare")
    return [unshare, "--net"] if unshare and os.geteuid() == 0 else []


def test_checkov_finds_nothing(rendered: Rendered):
    result = subprocess.run(
        [
            *offline(),
            tool("checkov"),
            "--config-file",
            DEPLOY / ".checkov.yaml",
            "--file",
            rendered.path,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    passed = re.search(r"Passed checks: (\d+), Failed checks: (\d+)", output)
    assert passed, output
    assert int(passed.group(1)) > 100
    assert int(passed.group(2)) == 0


def test_every_skipped_check_says_why():
    lines = (DEPLOY / ".checkov.yaml").read_text().splitlines()
    skips = [i for i, line in enumerate(lines) if re.match(r"\s+- CKV_", line)]
    assert skips
    for index in skips:
        assert lines[index - 1].lstrip().startswith("#"), f"no reason above {lines[index]}"
