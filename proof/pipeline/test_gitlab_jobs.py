"""The `unit` and `integration` jobs of .gitlab-ci.yml, run as GitLab's Docker executor
runs them (gitlab-ci-local in container mode on podman: proof/pipeline/gitlab_jobs.py),
on the image the build job pushed, by its digest, with their services.

Then broken copies of the pipeline are run the same way and must fail, for the
reason they would fail on GitLab.
"""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree

import pytest

from proof.pipeline.gitlab_jobs import JobRun, checkout, run_jobs
from proof.pipeline.support import ROOT, podman

PIPELINE = (ROOT / ".gitlab-ci.yml").read_text()
# What --timestamps puts before a job's name: "[08:29:04   19 ms] ", "[2.95 min] ".
TIME = r"(?:\[[^]]*\] +)?"


def registry_image(pushed_build: dict[str, str]) -> str:
    """$CI_REGISTRY_IMAGE: the repository build pushed to."""
    return pushed_build["tag"].rsplit(":", 1)[0]


def junit_totals(path: Path) -> dict[str, int]:
    root = ElementTree.parse(path).getroot()  # noqa: S314 (our own pytest's report)
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    assert suite is not None, f"{path} holds no test suite"
    return {k: int(suite.get(k, "0")) for k in ("tests", "failures", "errors", "skipped")}


@pytest.fixture(scope="module")
def test_jobs(stand_ins, pushed_build, tmp_path_factory) -> JobRun:
    """unit, then integration, once, from a checkout of the pipeline as it is."""
    repo = checkout(tmp_path_factory.mktemp("gitlab-jobs"), PIPELINE)
    return run_jobs(
        repo,
        ["unit", "integration"],
        registry_image=registry_image(pushed_build),
        build_dotenv=pushed_build["dotenv"],
    )


def test_unit_and_integration_jobs_pass_in_their_containers(test_jobs, pushed_build):
    assert test_jobs.returncode == 0, test_jobs.log[-8000:]
    for job in ("unit", "integration"):
        assert re.search(rf"^ PASS +{TIME}{job}\b", test_jobs.log, re.M), test_jobs.log[-3000:]
    # Each ran the image build pushed, by the digest from build's dotenv report.
    built = f"{registry_image(pushed_build)}@{pushed_build['digest']}"
    for job in ("unit", "integration"):
        assert re.search(rf"^{TIME}{job} +starting {re.escape(built)} ", test_jobs.log, re.M), job


def test_integration_job_reaches_its_services_by_their_aliases(test_jobs):
    log = test_jobs.log
    assert "started service image: postgres:17-alpine with aliases: db" in log
    assert "started service image: openbao/openbao:2.7.2 with aliases: vault" in log
    assert "seed Vault at http://vault:8200" in log
    assert "smoke: ok  the key is in no response" in log


def test_the_jobs_write_the_reports_gitlab_collects(test_jobs):
    unit = junit_totals(test_jobs.report("unit", "reports/junit-unit.xml"))
    assert unit["tests"] > 100, unit
    assert unit["failures"] == unit["errors"] == 0, unit
    coverage = ElementTree.parse(test_jobs.report("unit", "reports/coverage-unit.xml")).getroot()  # noqa: S314
    assert float(coverage.get("line-rate", "0")) > 0.8
    integration = junit_totals(test_jobs.report("integration", "reports/junit-integration.xml"))
    assert integration["tests"] > 10, integration
    assert integration["failures"] == integration["errors"] == 0, integration


def test_the_jobs_leave_no_container_network_or_volume_behind(test_jobs):
    assert test_jobs.networks_left == set()
    volumes = podman("volume", "ls", "--format", "{{.Name}}").stdout.split()
    assert not [v for v in volumes if v.startswith("gcl-")], volumes
    running = podman("ps", "--all", "--format", "{{.Image}}").stdout.split()
    assert not [i for i in running if "postgres" in i or "openbao" in i], running


# --- broken copies, run -------------------------------------------------------------------


def run_broken(old: str, new: str, job: str, pushed_build, tmp_path: Path) -> JobRun:
    assert old in PIPELINE, f"{old!r} is no longer in .gitlab-ci.yml: update this test"
    repo = checkout(tmp_path / "repo", PIPELINE.replace(old, new, 1))
    return run_jobs(
        repo,
        [job],
        registry_image=registry_image(pushed_build),
        build_dotenv=pushed_build["dotenv"],
        timeout=300,
    )


def test_a_job_pulling_a_tag_the_build_never_pushed_fails(stand_ins, pushed_build, tmp_path):
    result = run_broken(
        "  image: $CI_REGISTRY_IMAGE@$IMAGE_DIGEST\n  needs: [build]\n",
        "  image: $CI_REGISTRY_IMAGE:latest\n  needs: [build]\n",
        "unit",
        pushed_build,
        tmp_path,
    )
    assert result.returncode != 0, result.log[-4000:]
    # The runner's pull fails: the registry has no such manifest.
    assert f"{registry_image(pushed_build)}:latest" in result.log
    assert re.search(r"manifest unknown|not found", result.log, re.I), result.log[-4000:]


def test_unit_on_a_stock_python_image_fails(stand_ins, base_image, pushed_build, tmp_path):
    # What no registry serves here either: python:3.13-slim is the base stand-in.
    podman("tag", base_image, "docker.io/library/python:3.13-slim")
    result = run_broken(
        "  image: $CI_REGISTRY_IMAGE@$IMAGE_DIGEST\n  needs: [build]\n",
        "  image: python:3.13-slim\n  needs: [build]\n",
        "unit",
        pushed_build,
        tmp_path,
    )
    assert result.returncode != 0, result.log[-4000:]
    # test-in-image's first check: the code under test is not the code that ships.
    assert "the checkout's code is the image's code (/app)" in result.log
    assert re.search(r"diff: /app/\S+: No such file or directory", result.log), result.log[-4000:]
