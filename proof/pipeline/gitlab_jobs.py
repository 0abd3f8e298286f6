"""Run .gitlab-ci.yml's jobs as a GitLab runner's Docker executor runs them: gitlab-ci-local
in container mode, on podman, in this run's storage.

The two test jobs run scripts/ci/test-in-image, as on GitLab. Each job gets its
image (pulled from the loopback registry, as a runner pulls it), its services on a
network of its own under their aliases (the stand-ins of
proof/tools/stand-in-images), a copy of the checkout in a volume, and runs as
the image's user. What differs from GitLab, and why:

- The checkout is a throwaway git repository holding the working copy (uncommitted
  work too, as the image under test was built from it), with GitLab's templates
  replaced by their stand-ins (proof/tools/pipeline_rules.py).
- gitlab-ci-local exports `artifacts:paths` and dotenv reports, not JUnit or
  coverage reports, which GitLab uploads: each report path is added to the job's
  `artifacts:paths` in the copy, so a path the job never writes is missing after it.
- build's dotenv report (IMAGE_DIGEST) is the one the `pushed_build` fixture wrote,
  put where gitlab-ci-local keeps the build job's reports; CI_REGISTRY_IMAGE names
  the loopback registry.
- PyPI is reached through a TLS proxy here: the jobs get the host's CA bundle and a
  pip cache kept on the host (GitLab's `cache:` keeps one between pipelines).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML

from proof.pipeline.support import (
    HOST_CA_BUNDLE,
    PROOF_TOOLS,
    copy_repository,
    pip_cache,
    podman,
    run,
)
from proof.tools.pipeline_rules import report_paths, with_template_stand_ins

STATE = ".gitlab-ci-local"


def checkout(dest: Path, pipeline_text: str) -> Path:
    """A git repository holding the working copy and this pipeline, as a job checks out."""
    copy_repository(dest)
    yaml = YAML()  # round trip: what is not changed stays as written
    pipeline = yaml.load(with_template_stand_ins(pipeline_text, dest))
    for job in pipeline.values():
        if isinstance(job, dict) and (paths := report_paths(job)):
            artifacts = job["artifacts"]
            artifacts["paths"] = [*artifacts.get("paths", []), *paths]
    with (dest / ".gitlab-ci.yml").open("w") as out:
        yaml.dump(pipeline, out)
    git = ["git", "-C", str(dest), "-c", "user.name=ci", "-c", "user.email=ci@localhost"]
    for args in (
        ["init", "--quiet", "--initial-branch=main"],
        ["add", "--all"],
        ["commit", "--quiet", "--message", "pipeline under test"],
        ["remote", "add", "origin", "git@gitlab.example.com:group/weather.git"],
        ["update-ref", "refs/remotes/origin/main", "HEAD"],
        ["symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main"],
    ):
        run([*git, *args])
    return dest


@dataclass
class JobRun:
    returncode: int
    log: str
    artifacts: Path
    # Networks that appeared while the jobs ran and were still there afterwards: the
    # job networks are podman's (CNI) and shared by every storage on the machine.
    networks_left: set[str]

    def report(self, job: str, path: str) -> Path:
        return self.artifacts / job / path


def run_jobs(
    repo: Path, jobs: list[str], *, registry_image: str, build_dotenv: str, timeout: float = 900
) -> JobRun:
    """Run these jobs (and nothing they need) in containers; return the log and artifacts."""
    reports = repo / STATE / "artifacts" / "build" / ".gitlab-ci-reports" / "dotenv"
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "build.env").write_text(build_dotenv + "\n")
    variables = {
        "CI_REGISTRY_IMAGE": registry_image,
        "CI_COMMIT_BRANCH": "feature/gitlab-jobs",
        "CI_COMMIT_REF_PROTECTED": "false",
    }
    args: list[str] = [
        shutil.which("gitlab-ci-local") or "gitlab-ci-local",
        "--container-executable", str(PROOF_TOOLS / "gcl-podman"),
        # As a runner: the image's own user, not root (gitlab-ci-local's default).
        "--no-umask",
        "--pull-policy", "if-not-present",
        "--wait-for-services-timeout", "60",
        "--ignore-predefined-vars", ",".join(variables),
        "--timestamps",
        "--no-color",
    ]  # fmt: skip
    if HOST_CA_BUNDLE.exists():
        # Mounted over the image's own bundle, where pip is told to look.
        args += ["--ca-file", str(HOST_CA_BUNDLE)]
        args += ["--variable", "PIP_CERT=/etc/ssl/certs/ca-certificates.crt"]
    args += ["--volume", f"{pip_cache()}:/pip-cache", "--variable", "PIP_CACHE_DIR=/pip-cache"]
    for name, value in variables.items():
        args += ["--variable", f"{name}={value}"]
    networks_before = networks()
    result = subprocess.run(
        [*args, *jobs],
        cwd=repo,
        env=os.environ,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return JobRun(
        result.returncode,
        result.stdout + result.stderr,
        repo / STATE / "artifacts",
        networks() - networks_before,
    )


def networks() -> set[str]:
    return set(podman("network", "ls", "--format", "{{.Name}}").stdout.split())
