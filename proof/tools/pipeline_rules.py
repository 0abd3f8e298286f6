"""Check what .gitlab-ci.yml would run, without GitLab: job graph, rules and commands.

    python proof/tools/pipeline_rules.py [DIR]      # DIR defaults to the repository

1. gitlab-ci-local validates the job graph (every `needs:` names a job that runs
   under the same conditions, every stage is declared) and lists the jobs that a
   feature branch, a merge request, the default branch and a tag would run. Only
   the default branch and tags may release; every pipeline lints, builds and tests.
   Only a protected default branch and protected version tags vX.Y.Z release.
2. `release` needs every job that tests the image, so nothing untested is promoted,
   and runs in the `release` resource group, one at a time.
3. The image is handed on by digest: build pushes and reports IMAGE_DIGEST (dotenv),
   unit and integration run $CI_REGISTRY_IMAGE@$IMAGE_DIGEST, release copies that
   digest and never builds.
4. Jobs reach their services by a name the service answers to (each URL variable of
   a job with services), and every JUnit or coverage report path is one the job's
   script writes.
5. Every job's `script:` runs a `make` target or a script from this repository (no
   inline test commands that .ci/run would not run), and each one is exercised by
   .ci/run: a make target that .ci/run reaches, or a script the pipeline tests run.
6. Deploying: deploy:staging runs by itself on the protected default branch,
   deploy:production only by hand on protected version tags, and the rollbacks only
   by hand; each deploy job needs release and build's digest, applies
   $CI_REGISTRY_IMAGE@$IMAGE_DIGEST through scripts/ci/deploy alone (which checks the
   signature before it applies anything: no kubectl or kustomize of its own), has an
   environment (name, url, deployment_tier) and one resource group per environment.
   release, the deploy jobs and the GitLab Release are never interruptible.

gitlab-ci-local (npm) is found on PATH or in $GITLAB_CI_LOCAL; it needs git and
rsync. It works on a throwaway git repository holding a copy of .gitlab-ci.yml, so
the checked directory is never touched and nothing is run.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

DEFAULT_BRANCH = "main"
TESTS = {"lint", "build", "pip-audit", "unit", "integration"}
# GitLab's scanner templates: branch and merge request pipelines, never tags.
SCANNERS = {"semgrep-sast", "secret_detection", "container_scanning"}
# What gitlab-ci-local reads instead of GitLab's templates (it cannot fetch them).
TEMPLATE_STAND_INS = Path(__file__).resolve().parent / "gitlab-templates"
PROTECTED = {"CI_COMMIT_REF_PROTECTED": "true"}
UNPROTECTED = {"CI_COMMIT_REF_PROTECTED": "false"}
BRANCH = TESTS | SCANNERS
# The manual (GitLab Pages) is published from the protected default branch alone.
DEFAULT_BRANCH_DELIVERY = {"release", "deploy:staging", "rollback:staging", "pages"}
TAG_DELIVERY = {"release", "deploy:production", "rollback:production", "gitlab-release"}
# Jobs that only ever run when someone starts them; every other job runs by itself.
MANUAL = {"deploy:production", "rollback:staging", "rollback:production"}
SCENARIOS: list[tuple[str, dict[str, str], list[str], set[str]]] = [
    # (name, variables, variables to unset, jobs expected to run)
    ("feature branch", {"CI_COMMIT_BRANCH": "feature/search-box", **UNPROTECTED}, [], BRANCH),
    (
        "merge request",
        {"CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "7", **UNPROTECTED},
        ["CI_COMMIT_BRANCH"],
        BRANCH,
    ),
    (
        "default branch",
        {"CI_COMMIT_BRANCH": DEFAULT_BRANCH, **PROTECTED},
        [],
        BRANCH | DEFAULT_BRANCH_DELIVERY,
    ),
    ("tag", {"CI_COMMIT_TAG": "v1.4.0", **PROTECTED}, ["CI_COMMIT_BRANCH"], TESTS | TAG_DELIVERY),
    # What must not release: an unprotected ref, a tag that is not a version vX.Y.Z.
    ("unprotected default branch", {"CI_COMMIT_BRANCH": DEFAULT_BRANCH, **UNPROTECTED}, [], BRANCH),
    ("unprotected tag", {"CI_COMMIT_TAG": "v1.4.0", **UNPROTECTED}, ["CI_COMMIT_BRANCH"], TESTS),
    *[
        (f"{kind} tag", {"CI_COMMIT_TAG": tag, **PROTECTED}, ["CI_COMMIT_BRANCH"], TESTS)
        for kind, tag in (
            ("non-version", "test-foo"),
            ("partial version", "v1.4"),
            ("suffixed version", "v1.4.0-rc1"),
        )
    ],
]
RELEASE_NEEDS = {"lint", "pip-audit", "unit", "integration"}
NOT_JOBS = {
    "stages", "variables", "default", "workflow", "include", "image", "services",
    "cache", "before_script", "after_script",
}  # fmt: skip


class Broken(Exception):
    pass


def gitlab_ci_local() -> str:
    found = os.environ.get("GITLAB_CI_LOCAL") or shutil.which("gitlab-ci-local")
    if not found:
        raise Broken("gitlab-ci-local not found: run proof/tools/install-tools")
    return found


def with_template_stand_ins(text: str, into: Path) -> str:
    """Point each `include: template:` at its stand-in, copied next to the pipeline."""

    def local(match: re.Match[str]) -> str:
        name = Path(match.group(2)).name
        stand_in = TEMPLATE_STAND_INS / name
        if not stand_in.is_file():
            raise Broken(f"include: template {match.group(2)} has no stand-in in {stand_in.parent}")
        (into / "gitlab-templates").mkdir(exist_ok=True)
        shutil.copy(stand_in, into / "gitlab-templates" / name)
        return f"{match.group(1)}local: gitlab-templates/{name}"

    return re.sub(r"^(\s*-\s*)template:\s*(\S+)\s*$", local, text, flags=re.M)


def scratch_repo(ci_file: Path, into: Path) -> Path:
    """A git repository on the default branch holding only the pipeline file (and the
    stand-ins for GitLab's templates it includes)."""
    (into / ".gitlab-ci.yml").write_text(with_template_stand_ins(ci_file.read_text(), into))
    git = ["git", "-C", str(into), "-c", "user.name=ci", "-c", "user.email=ci@localhost"]
    for args in (
        ["init", "--quiet", f"--initial-branch={DEFAULT_BRANCH}"],
        ["add", "."],
        ["commit", "--quiet", "--message", "pipeline under test"],
        # Read for CI_PROJECT_PATH and the default branch; nothing is fetched.
        ["remote", "add", "origin", "git@gitlab.example.com:group/weather.git"],
        ["update-ref", f"refs/remotes/origin/{DEFAULT_BRANCH}", "HEAD"],
        ["symbolic-ref", "refs/remotes/origin/HEAD", f"refs/remotes/origin/{DEFAULT_BRANCH}"],
    ):
        subprocess.run([*git, *args], check=True)
    return into


def run_gcl(repo: Path, variables: dict[str, str], unset: list[str], *flags: str) -> str:
    args = [gitlab_ci_local(), *flags]
    overridden = sorted({*variables, *unset})
    if overridden:
        # These are GitLab's predefined variables; overriding them is the point here.
        args += ["--ignore-predefined-vars", ",".join(overridden)]
    for name, value in variables.items():
        args += ["--variable", f"{name}={value}"]
    for name in unset:
        args += ["--unset-variable", name]
    result = subprocess.run(args, cwd=repo, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise Broken(f"gitlab-ci-local {' '.join(flags)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def check_scenario(repo: Path, scenario: tuple[str, dict[str, str], list[str], set[str]]) -> str:
    name, variables, unset, expected = scenario
    # Every job that an active job needs must be active too under these variables.
    run_gcl(repo, variables, unset, "--validate-dependency-chain")
    jobs = json.loads(run_gcl(repo, variables, unset, "--list-json"))
    running = {job["name"]: job for job in jobs if job["when"] != "never"}
    if set(running) != expected:
        missing, extra = sorted(expected - set(running)), sorted(set(running) - expected)
        raise Broken(f"{name}: runs {sorted(running)} (missing {missing}, unexpected {extra})")
    for job in running.values():
        if (job["when"] == "manual") != (job["name"] in MANUAL):
            wanted = "by hand only" if job["name"] in MANUAL else "by itself"
            raise Broken(f"{name}: {job['name']} runs when {job['when']}, not {wanted}")
    if name in ("default branch", "tag"):
        release = running["release"]
        needs = {need["job"] for need in release["needs"]}
        if not needs >= RELEASE_NEEDS:
            raise Broken(f"release needs {sorted(needs)}, not all of {sorted(RELEASE_NEEDS)}")
        for job in running.values():
            if job["name"].startswith("deploy:"):
                needs = {need["job"] for need in job["needs"] or []}
                if not needs >= {"build", "release"}:
                    raise Broken(f"{job['name']} needs {sorted(needs)}, not release and build")
    listed = [f"{job} (manual)" if job in MANUAL else job for job in sorted(running)]
    return f"{name}: {', '.join(listed)}"


def check_scenarios(repo: Path) -> list[str]:
    return [check_scenario(repo, scenario) for scenario in SCENARIOS]


def make_targets_reached_by(root: Path) -> set[str]:
    """The make targets .ci/run runs, with their prerequisites, transitively."""
    makefile = (root / "Makefile").read_text()
    rules = {
        m.group(1): m.group(2).split()
        for m in re.finditer(r"^([a-z][a-z0-9-]*):(?!=)([^#\n]*)", makefile, re.M)
    }
    # Its commands, not its comments: the header names every step as well.
    lines = (root / ".ci/run").read_text().splitlines()
    commands = [line for line in lines if not line.lstrip().startswith("#")]
    todo = re.findall(r"\bmake\s+([a-z][a-z0-9-]*)", "\n".join(commands))
    reached: set[str] = set()
    while todo:
        target = todo.pop()
        if target not in reached:
            reached.add(target)
            todo += [p for p in rules.get(target, []) if p in rules]
    return reached


def exercised(script: str, tests: str) -> bool:
    """Whether the pipeline tests run a script: by its path, or as SCRIPTS / "name"."""
    name = script.removeprefix("scripts/ci/")
    return script in tests or re.search(rf'SCRIPTS\s*/\s*"{re.escape(name)}"', tests) is not None


def check_job_commands(root: Path, pipeline: dict[str, Any]) -> list[str]:
    reached = make_targets_reached_by(root)
    # The tests of this script quote job lines as examples: they do not count.
    pipeline_tests = "\n".join(
        path.read_text()
        for path in (root / "proof/pipeline").glob("*.py")
        if path.name != "test_pipeline_rules.py"
    )
    report, problems = [], []
    for job, spec in pipeline.items():
        if job in NOT_JOBS or job.startswith(".") or not isinstance(spec, dict):
            continue
        for line in spec.get("script", []):
            words = [w for w in shlex.split(line) if not re.match(r"^[A-Z_][A-Z0-9_]*=", w)]
            if words[:1] == ["make"] and len(words) >= 2:
                if words[1] not in reached:
                    problems.append(f"{job}: `make {words[1]}` is not run by .ci/run")
            elif words and words[0].startswith("scripts/"):
                script = root / words[0]
                if not (script.is_file() and os.access(script, os.X_OK)):
                    problems.append(f"{job}: {words[0]} is not an executable file")
                elif not exercised(words[0], pipeline_tests):
                    problems.append(f"{job}: {words[0]} is not run by the pipeline tests")
            else:
                problems.append(f"{job}: `{line}` is neither a make target nor a repo script")
            report.append(f"{job}: {line}")
    if problems:
        raise Broken("\n".join(problems))
    return report


BUILT_IMAGE = "$CI_REGISTRY_IMAGE@$IMAGE_DIGEST"
# The jobs that run the image the build job pushed, and must run exactly that.
RUN_THE_BUILD = ("unit", "integration")
BUILDS = re.compile(r"\b(build-image|buildah|kaniko|docker\s+build|podman\s+build)\b")


def image_name(job: dict[str, Any]) -> str:
    image = job.get("image", "")
    return str(image.get("name", "") if isinstance(image, dict) else image)


def gets_the_digest(name: str, job: dict[str, Any]) -> list[str]:
    """The job receives build's dotenv report: it needs build, with its artifacts."""
    needs = [n if isinstance(n, dict) else {"job": n} for n in job.get("needs", [])]
    build = [n for n in needs if n["job"] == "build"]
    if not build or build[0].get("artifacts") is False:
        return [f"{name}: does not need build's artifacts, so it has no IMAGE_DIGEST"]
    if "dependencies" in job and "build" not in job["dependencies"]:
        return [f"{name}: its dependencies leave out build, so it has no IMAGE_DIGEST"]
    return []


def commands(job: dict[str, Any]) -> list[str]:
    return [str(line) for key in ("before_script", "script") for line in job.get(key, [])]


def check_wiring(pipeline: dict[str, Any]) -> list[str]:
    """What gitlab-ci-local does not judge: how the jobs hand the image on.

    build pushes and records the digest in a dotenv report; unit and integration
    run that digest; release copies that digest and builds nothing.
    """
    problems, report = [], []
    build = pipeline.get("build", {})
    pushes = [
        line for line in commands(build) if "scripts/ci/build-image" in line and "PUSH=1" in line
    ]
    dotenv = build.get("artifacts", {}).get("reports", {}).get("dotenv")
    if not pushes:
        problems.append("build: does not push (no `PUSH=1 ... scripts/ci/build-image`)")
    elif not dotenv or f"DOTENV={dotenv} " not in pushes[0]:
        problems.append(f"build: the digest file is not its dotenv report ({dotenv})")
    else:
        report.append(f"build: pushes and reports IMAGE_DIGEST in {dotenv}")
    for name in RUN_THE_BUILD:
        job = pipeline.get(name, {})
        if image_name(job) != BUILT_IMAGE:
            problems.append(f"{name}: runs {image_name(job)!r}, not the built {BUILT_IMAGE}")
        problems += gets_the_digest(name, job)
        report.append(f"{name}: runs {image_name(job)}")
    scanning = pipeline.get("container_scanning", {})
    scanned = str(scanning.get("variables", {}).get("CS_IMAGE", ""))
    if scanned != BUILT_IMAGE:
        problems.append(f"container_scanning: scans {scanned!r}, not the built {BUILT_IMAGE}")
    problems += gets_the_digest("container_scanning", scanning)
    report.append(f"container_scanning: scans {scanned}")
    release = pipeline.get("release", {})
    problems += gets_the_digest("release", release)
    source = str(release.get("variables", {}).get("SOURCE_IMAGE", ""))
    if not source.endswith("@$IMAGE_DIGEST"):
        problems.append(f"release: copies {source!r}, not the tested @$IMAGE_DIGEST")
    if builds := [line for line in commands(release) if BUILDS.search(line)]:
        problems.append(f"release: builds instead of copying the tested image: {builds}")
    if not any("scripts/ci/release-image" in line for line in commands(release)):
        problems.append("release: does not run scripts/ci/release-image")
    report.append(f"release: copies {source}, builds nothing")
    if release.get("resource_group") != "release":
        problems.append("release: not in resource_group `release` (two releases could race)")
    report.append("release: resource_group release")
    if problems:
        raise Broken("\n".join(problems))
    return report


URL_HOST = re.compile(r"^[a-z][a-z0-9+.-]*://(?:[^@/]*@)?([^:/@]+)", re.I)
LOOPBACK = {"localhost", "127.0.0.1", "::1"}


def service_names(service: Any) -> set[str]:
    """The host names a service answers to in its job: its alias, and the names GitLab
    derives from its image (postgres:17-alpine: `postgres`; openbao/openbao:2.7.2:
    `openbao-openbao` and `openbao__openbao`)."""
    spec = service if isinstance(service, dict) else {"name": service}
    image = str(spec.get("name", "")).split("@")[0].rsplit(":", 1)[0]
    image = image.split("/", 1)[1] if "." in image.split("/")[0] else image
    names = {image.replace("/", "-"), image.replace("/", "__")}
    names |= {a.strip() for a in str(spec.get("alias", "")).split(",") if a.strip()}
    return names


def check_service_addresses(pipeline: dict[str, Any]) -> list[str]:
    """Every URL a job with services is given names a host that one of them answers to."""
    problems, report = [], []
    for name, job in pipeline.items():
        if not isinstance(job, dict) or not job.get("services"):
            continue
        hosts = set().union(*(service_names(s) for s in job["services"]))
        for variable, value in (job.get("variables") or {}).items():
            match = URL_HOST.match(str(value))
            if not match or match.group(1) in LOOPBACK:
                continue
            if match.group(1) not in hosts:
                problems.append(
                    f"{name}: {variable} points at host {match.group(1)!r}, which none of its"
                    f" services answers to ({', '.join(sorted(hosts))})"
                )
            else:
                report.append(f"{name}: {variable} reaches the service {match.group(1)}")
    if problems:
        raise Broken("\n".join(problems))
    return report


def report_paths(job: dict[str, Any]) -> list[str]:
    """The files a job's JUnit and coverage reports are read from."""
    reports = (job.get("artifacts") or {}).get("reports") or {}
    paths: list[str] = []
    for kind in ("junit", "coverage_report"):
        value = reports.get(kind)
        if isinstance(value, dict):
            value = value.get("path")
        paths += [str(value)] if isinstance(value, str) else [str(v) for v in value or []]
    return paths


def check_reports_written(root: Path, pipeline: dict[str, Any]) -> list[str]:
    """Each report path is one the job's script writes: in the folder the script writes
    reports to (its REPORTS_DIR default, or the job's REPORTS_DIR), under that name.
    GitLab only warns about a missing report, and the merge request shows no tests."""
    problems, report = [], []
    for name, job in pipeline.items():
        if not isinstance(job, dict) or not (paths := report_paths(job)):
            continue
        scripts = [
            root / words[0]
            for line in commands(job)
            if (words := shlex.split(line)) and words[0].startswith("scripts/")
        ]
        texts = [s.read_text() for s in scripts if s.is_file()]
        for path in paths:
            folder, _, filename = path.rpartition("/")
            written = False
            for text in texts:
                default = re.search(r"\$\{REPORTS_DIR:-([^}]*)\}", text)
                into = (job.get("variables") or {}).get("REPORTS_DIR") or (
                    default.group(1) if default else None
                )
                written |= (
                    into == folder and re.search(rf"/{re.escape(filename)}\b", text) is not None
                )
            if written:
                report.append(f"{name}: its script writes {path}")
            else:
                problems.append(f"{name}: report {path} is not written by its script")
    if problems:
        raise Broken("\n".join(problems))
    return report


DEPLOYS = {"deploy:staging": "staging", "deploy:production": "production"}
ROLLBACKS = {"rollback:staging": "staging", "rollback:production": "production"}
NEVER_INTERRUPTED = ("release", *DEPLOYS, *ROLLBACKS, "gitlab-release")
APPLIES = re.compile(r"\b(kubectl|kustomize|helm)\b")


def resolved(pipeline: dict[str, Any], name: str) -> dict[str, Any]:
    """A job with what it `extends:` merged in (variables merged key by key)."""
    job = pipeline.get(name) or {}
    merged: dict[str, Any] = {}
    parents = job.get("extends", [])
    for parent in [parents] if isinstance(parents, str) else parents:
        merged.update(resolved(pipeline, parent))
    variables = {**(merged.get("variables") or {}), **(job.get("variables") or {})}
    merged.update({k: v for k, v in job.items() if k != "extends"})
    if variables:
        merged["variables"] = variables
    return merged


def verifies_before_applying(script: Path) -> bool:
    """scripts/ci/deploy runs verify-image before its first apply."""
    lines = script.read_text().splitlines() if script.is_file() else []
    code = [line for line in lines if not line.lstrip().startswith("#")]
    verify = next((i for i, line in enumerate(code) if "verify-image" in line), None)
    apply = next((i for i, line in enumerate(code) if re.search(r"\bapply\b", line)), None)
    return verify is not None and apply is not None and verify < apply


def check_delivery(root: Path, pipeline: dict[str, Any]) -> list[str]:
    """What the deploy jobs promise beyond their rules (those are in check_scenario)."""
    problems, report = [], []
    default_interruptible = (pipeline.get("default") or {}).get("interruptible", False)
    for name in NEVER_INTERRUPTED:
        job = resolved(pipeline, name)
        if job.get("interruptible", default_interruptible) is not False:
            problems.append(f"{name}: interruptible (a newer pipeline could cancel it half-way)")
    report.append(f"never interruptible: {', '.join(NEVER_INTERRUPTED)}")
    groups: dict[str, set[str]] = {}
    for name, environment in {**DEPLOYS, **ROLLBACKS}.items():
        job = resolved(pipeline, name)
        env = job.get("environment") or {}
        if not isinstance(env, dict) or env.get("name") != environment:
            problems.append(f"{name}: its environment is not `{environment}`")
        elif not env.get("url") or env.get("deployment_tier") != environment:
            problems.append(f"{name}: environment {environment} without url or deployment_tier")
        group = job.get("resource_group")
        if not group or group == "release":
            problems.append(f"{name}: no resource_group of its own (two deploys could overlap)")
        groups.setdefault(environment, set()).add(str(group))
        lines = commands(job)
        wanted = "scripts/ci/deploy" + (" --rollback" if name in ROLLBACKS else "")
        if [str(line) for line in job.get("script", [])] != [wanted]:
            problems.append(f"{name}: its script is not `{wanted}` alone")
        if outside := [line for line in lines if APPLIES.search(line)]:
            problems.append(
                f"{name}: touches the cluster outside scripts/ci/deploy, before the"
                f" signature check: {outside}"
            )
        variables = job.get("variables") or {}
        if variables.get("DEPLOY_ENVIRONMENT") != environment:
            problems.append(f"{name}: DEPLOY_ENVIRONMENT is not {environment}")
        if name in DEPLOYS:
            image = str(variables.get("DEPLOY_IMAGE", ""))
            if image != BUILT_IMAGE:
                problems.append(f"{name}: applies {image!r}, not the released {BUILT_IMAGE}")
            problems += gets_the_digest(name, job)
            report.append(f"{name}: applies {image} to {environment}, resource_group {group}")
        else:
            report.append(f"{name}: the previous digest of {environment}, resource_group {group}")
    shared = [env for env, names in groups.items() if len(names) != 1]
    if shared or len({g for names in groups.values() for g in names}) != len(groups):
        problems.append(f"resource groups: not one per environment ({groups})")
    if not verifies_before_applying(root / "scripts/ci/deploy"):
        problems.append("scripts/ci/deploy: does not run verify-image before it applies")
    else:
        report.append("scripts/ci/deploy: verify-image before the first apply")
    if problems:
        raise Broken("\n".join(problems))
    return report


def main(argv: list[str]) -> int:
    root = Path(argv[1] if len(argv) > 1 else Path(__file__).resolve().parents[2]).resolve()
    ci_file = root / ".gitlab-ci.yml"
    try:
        # The quick check first: it needs no gitlab-ci-local.
        pipeline = YAML(typ="safe").load(ci_file)
        for line in check_job_commands(root, pipeline):
            print(f"pipeline command: {line}")
        for line in check_wiring(pipeline):
            print(f"pipeline wiring: {line}")
        for line in check_service_addresses(pipeline) + check_reports_written(root, pipeline):
            print(f"pipeline wiring: {line}")
        for line in check_delivery(root, pipeline):
            print(f"pipeline delivery: {line}")
        with tempfile.TemporaryDirectory(prefix="pipeline-rules-") as scratch:
            for line in check_scenarios(scratch_repo(ci_file, Path(scratch))):
                print(f"pipeline rules: {line}")
    except Broken as exc:
        print(f"pipeline rules: FAILED: {exc}", file=sys.stderr)
        return 1
    print("pipeline rules: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
