"""proof/tools/pipeline_rules.py passes on .gitlab-ci.yml and rejects broken copies.

It runs gitlab-ci-local for a feature branch, a merge request, the default branch
and a tag, and checks that every job runs a command .ci/run also runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from proof.pipeline.support import PROOF_TOOLS, ROOT, attempt, copy_paths

NEEDED = (".gitlab-ci.yml", "Makefile", ".ci/run", "scripts/ci", "proof/pipeline")


def check(directory: Path) -> tuple[int, str]:
    return attempt([sys.executable, PROOF_TOOLS / "pipeline_rules.py", directory])


def test_pipeline_runs_the_expected_jobs_per_ref_and_only_project_commands():
    code, text = check(ROOT)
    assert code == 0, text
    scanned = "container_scanning, integration, lint, pip-audit, secret_detection, semgrep-sast"
    assert f"rules: feature branch: build, {scanned}, unit\n" in text
    assert f"rules: merge request: build, {scanned}, unit\n" in text
    assert (
        "rules: default branch: build, container_scanning, deploy:staging, integration, lint,"
        " pages, pip-audit, release, rollback:staging (manual), secret_detection, semgrep-sast,"
        " unit\n"
    ) in text
    assert f"rules: unprotected default branch: build, {scanned}, unit\n" in text
    # GitLab's scanner templates skip tags; an untested tag builds and tests its own.
    assert (
        "rules: tag: build, deploy:production (manual), gitlab-release, integration, lint,"
        " pip-audit, release, rollback:production (manual), unit\n"
    ) in text
    for ref in ("unprotected tag", "non-version tag", "partial version tag"):
        assert f"rules: {ref}: build, integration, lint, pip-audit, unit\n" in text
    assert "pipeline wiring: release: resource_group release" in text
    for line in (
        "never interruptible: release, deploy:staging, deploy:production, rollback:staging,"
        " rollback:production, gitlab-release",
        "deploy:staging: applies $CI_REGISTRY_IMAGE@$IMAGE_DIGEST to staging,"
        " resource_group deploy-staging",
        "deploy:production: applies $CI_REGISTRY_IMAGE@$IMAGE_DIGEST to production,"
        " resource_group deploy-production",
        "rollback:production: the previous digest of production, resource_group deploy-production",
        "scripts/ci/deploy: verify-image before the first apply",
    ):
        assert f"pipeline delivery: {line}\n" in text
    assert "pipeline wiring: unit: runs $CI_REGISTRY_IMAGE@$IMAGE_DIGEST" in text
    assert "pipeline wiring: integration: runs $CI_REGISTRY_IMAGE@$IMAGE_DIGEST" in text
    assert "pipeline wiring: build: pushes and reports IMAGE_DIGEST in build.env" in text
    assert "pipeline wiring: container_scanning: scans $CI_REGISTRY_IMAGE@$IMAGE_DIGEST" in text
    assert "pipeline wiring: integration: VAULT_ADDR reaches the service vault" in text
    assert "pipeline wiring: integration: DATABASE_URL reaches the service db" in text
    for report in (
        "unit: its script writes reports/junit-unit.xml",
        "unit: its script writes reports/coverage-unit.xml",
        "integration: its script writes reports/junit-integration.xml",
    ):
        assert f"pipeline wiring: {report}" in text


PRODUCTION_RULES = (
    "  rules:\n"
    '    - if: $CI_COMMIT_REF_PROTECTED != "true"\n      when: never\n'
    "    - if: $CI_COMMIT_TAG =~ /^v(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)$/\n"
    "      when: manual\n"
    "  # The tag's pipeline waits"
)
STAGING_NEEDS_AND_RULES = (
    "  needs: [build, release]\n"
    "  rules:\n"
    '    - if: $CI_COMMIT_REF_PROTECTED != "true"\n      when: never\n'
    "    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH\n"
    "  # One deploy or rollback"
)

BROKEN = {
    "release without rules runs on every branch": (
        "  rules:\n"
        '    - if: $CI_COMMIT_REF_PROTECTED != "true"\n      when: never\n'
        "    - if: $CI_COMMIT_TAG =~ /^v(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)$/\n"
        "    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH\n",
        "",
        "feature branch: runs",
    ),
    "release only on tags": (
        "    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH\n  # One release",
        "  # One release",
        # deploy:staging needs it there.
        "release is when:never, but its needed by deploy:staging",
    ),
    "release from an unprotected ref": (
        '    - if: $CI_COMMIT_REF_PROTECTED != "true"\n      when: never\n',
        "",
        "unprotected default branch: runs",
    ),
    "any tag releases, not only vX.Y.Z": (
        "    - if: $CI_COMMIT_TAG =~ /^v(0|",
        "    - if: $CI_COMMIT_TAG\n    - if: $CI_COMMIT_TAG =~ /^v(0|",
        "non-version tag: runs",
    ),
    "a version pattern that lets suffixes through": (
        "(0|[1-9][0-9]*)$/",
        "(0|[1-9][0-9]*)/",
        "suffixed version tag: runs",
    ),
    "unit running a tag instead of the built digest": (
        "  image: $CI_REGISTRY_IMAGE@$IMAGE_DIGEST\n  needs: [build]\n",
        "  image: $CI_REGISTRY_IMAGE:$CI_COMMIT_SHA\n  needs: [build]\n",
        "unit: runs '$CI_REGISTRY_IMAGE:$CI_COMMIT_SHA', not the built",
    ),
    "unit running a stock Python image": (
        "  image: $CI_REGISTRY_IMAGE@$IMAGE_DIGEST\n  needs: [build]\n",
        "  image: python:3.13-slim\n  needs: [build]\n",
        "unit: runs 'python:3.13-slim'",
    ),
    "integration without the build's digest": (
        "needs: [build, unit]",
        "needs: [unit]",
        "integration: does not need build's artifacts",
    ),
    "build not pushing": ("- PUSH=1 DOTENV=", "- DOTENV=", "build: does not push"),
    "the digest not passed on": (
        "      dotenv: build.env\n",
        "      junit: build.xml\n",
        "build: the digest file is not its dotenv report",
    ),
    "release rebuilding instead of copying": (
        "    - scripts/ci/release-image\n",
        "    - PUSH=1 scripts/ci/build-image\n",
        "release: builds instead of copying the tested image",
    ),
    "release copying a tag, not the tested digest": (
        "SOURCE_IMAGE: docker://$CI_REGISTRY_IMAGE@$IMAGE_DIGEST",
        "SOURCE_IMAGE: docker://$CI_REGISTRY_IMAGE:$CI_COMMIT_SHA",
        "release: copies 'docker://$CI_REGISTRY_IMAGE:$CI_COMMIT_SHA'",
    ),
    "no `test` stage for GitLab's scanner templates": (
        "  - build\n"
        "  # The scanners' stage (the templates put their jobs in `test`), and pip-audit.\n"
        "  - test\n",
        "  - build\n",
        "stage:test not found",
    ),
    "container scanning a tag, not the built digest": (
        "    CS_IMAGE: $CI_REGISTRY_IMAGE@$IMAGE_DIGEST",
        "    CS_IMAGE: $CI_REGISTRY_IMAGE:$CI_COMMIT_SHA",
        "container_scanning: scans '$CI_REGISTRY_IMAGE:$CI_COMMIT_SHA'",
    ),
    "container scanning without build's report": (
        "  dependencies: [build]\n",
        "  dependencies: []\n",
        "container_scanning: its dependencies leave out build",
    ),
    "release not waiting for the dependency audit": (
        "needs: [lint, build, pip-audit, unit, integration]",
        "needs: [lint, build, unit, integration]",
        "release needs",
    ),
    "an included template with no local stand-in": (
        "  - template: Jobs/SAST.gitlab-ci.yml\n",
        "  - template: Jobs/SAST.gitlab-ci.yml\n"
        "  - template: Jobs/Dependency-Scanning.gitlab-ci.yml\n",
        "has no stand-in",
    ),
    "two releases may run at once": (
        "  resource_group: release\n",
        "",
        "resource_group",
    ),
    "build skipped on tags while unit needs it": (
        "  needs: []\n  variables:\n    # Unprivileged",
        "  needs: []\n  rules:\n    - if: $CI_COMMIT_BRANCH\n  variables:\n    # Unprivileged",
        "build is when:never, but its needed by",
    ),
    "needs a job that does not exist": (
        "needs: [build, unit]",
        "needs: [build, unit-tests]",
        "unit-tests",
    ),
    "a stage that is not declared": ("  - integration\n  - release", "  - release", "integration"),
    "release not waiting for the integration tests": (
        "needs: [lint, build, pip-audit, unit, integration]",
        "needs: [lint, build, pip-audit, unit]",
        "release needs",
    ),
    "a job running tests inline": (
        "    - scripts/ci/test-in-image unit\n",
        "    - python3 -m pytest tests/unit\n",
        "neither a make target nor a repo script",
    ),
    "integration pulling a tag the build never pushed": (
        "  image: $CI_REGISTRY_IMAGE@$IMAGE_DIGEST\n  # build for its dotenv",
        "  image: $CI_REGISTRY_IMAGE:latest\n  # build for its dotenv",
        "integration: runs '$CI_REGISTRY_IMAGE:latest', not the built",
    ),
    "the Vault service alias no longer matching VAULT_ADDR": (
        "      alias: vault\n",
        "      alias: openbao\n",
        "integration: VAULT_ADDR points at host 'vault', which none of its services answers to",
    ),
    "the database service renamed, DATABASE_URL not": (
        "      alias: db\n",
        "      alias: postgres-db\n",
        "integration: DATABASE_URL points at host 'db'",
    ),
    "a JUnit path the job never writes": (
        "      junit: reports/junit-unit.xml\n",
        "      junit: reports/unit.xml\n",
        "unit: report reports/unit.xml is not written by its script",
    ),
    "a coverage report read from another folder": (
        "        path: reports/coverage-unit.xml\n",
        "        path: coverage/coverage-unit.xml\n",
        "unit: report coverage/coverage-unit.xml is not written by its script",
    ),
    "release interruptible": (
        "  # Half a release is worse than a late one.\n  interruptible: false\n",
        "",
        "release: interruptible",
    ),
    "deploys interruptible": (
        "  interruptible: false\n  before_script:\n    - apk add",
        "  interruptible: true\n  before_script:\n    - apk add",
        "deploy:staging: interruptible",
    ),
    "the GitLab Release interruptible": (
        "  interruptible: false\n  script:\n    - NOTES=",
        "  script:\n    - NOTES=",
        "gitlab-release: interruptible",
    ),
    "production deployed without anyone starting it": (
        PRODUCTION_RULES,
        PRODUCTION_RULES.replace("      when: manual\n", ""),
        "tag: deploy:production runs when on_success, not by hand only",
    ),
    "production deployed from an unprotected tag": (
        PRODUCTION_RULES,
        PRODUCTION_RULES.replace(
            '    - if: $CI_COMMIT_REF_PROTECTED != "true"\n      when: never\n', ""
        ),
        "release is when:never, but its needed by deploy:production",
    ),
    "staging deployed from every branch": (
        STAGING_NEEDS_AND_RULES,
        STAGING_NEEDS_AND_RULES.replace(
            '    - if: $CI_COMMIT_REF_PROTECTED != "true"\n      when: never\n'
            "    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH\n",
            "    - if: $CI_COMMIT_BRANCH\n",
        ),
        "release is when:never, but its needed by deploy:staging",
    ),
    "a rollback that runs by itself": (
        "== $CI_DEFAULT_BRANCH\n      when: manual\n  allow_failure: true\n",
        "== $CI_DEFAULT_BRANCH\n  allow_failure: true\n",
        "default branch: rollback:staging runs when on_success, not by hand only",
    ),
    "a deploy that does not wait for release": (
        STAGING_NEEDS_AND_RULES,
        STAGING_NEEDS_AND_RULES.replace("[build, release]", "[build]"),
        "deploy:staging needs ['build'], not release and build",
    ),
    "a deploy applying a tag, not the released digest": (
        "    DEPLOY_IMAGE: $CI_REGISTRY_IMAGE@$IMAGE_DIGEST\n    # The agent",
        "    DEPLOY_IMAGE: $CI_REGISTRY_IMAGE:$CI_COMMIT_SHA\n    # The agent",
        "deploy:staging: applies '$CI_REGISTRY_IMAGE:$CI_COMMIT_SHA', not the released",
    ),
    "a deploy applying before the signature check": (
        '--password-stdin "$CI_REGISTRY"\n\ndeploy:staging:',
        '--password-stdin "$CI_REGISTRY"\n'
        "    - kubectl apply -k deploy/kubernetes/overlays/$DEPLOY_ENVIRONMENT\n\ndeploy:staging:",
        "deploy:staging: touches the cluster outside scripts/ci/deploy",
    ),
    "a deploy job without its environment's tier": (
        "    deployment_tier: production\n  variables:\n    DEPLOY_ENVIRONMENT: production\n    D",
        "  variables:\n    DEPLOY_ENVIRONMENT: production\n    D",
        "deploy:production: environment production without url or deployment_tier",
    ),
    "production and staging in one resource group": (
        "  resource_group: deploy-production\n",
        "  resource_group: deploy-staging\n",
        "resource groups: not one per environment",
    ),
    "a make target .ci/run never runs": (
        "    - make lint-containers\n",
        "    - make format\n",
        "`make format` is not run by .ci/run",
    ),
}


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_broken_pipeline_is_rejected(case: str, tmp_path: Path):
    old, new, expected = BROKEN[case]
    pipeline = copy_paths(NEEDED, tmp_path) / ".gitlab-ci.yml"
    text = pipeline.read_text()
    assert old in text, f"{old!r} is no longer in .gitlab-ci.yml: update this test"
    pipeline.write_text(text.replace(old, new, 1))
    code, report = check(tmp_path)
    assert code != 0, f"pipeline_rules.py accepted a pipeline with {case}:\n{report}"
    assert expected in report, f"rejected, but not for the expected reason ({expected}):\n{report}"


def test_a_deploy_script_that_applies_before_verifying_is_rejected(tmp_path: Path):
    copy_paths(NEEDED, tmp_path)
    script = tmp_path / "scripts/ci/deploy"
    text = script.read_text()
    verify = 'IMAGE=$DEPLOY_IMAGE "$root/scripts/ci/verify-image"\n'
    setup = '"${kubectl[@]}" apply -f "$work/setup.yaml"\n'
    assert verify in text, "scripts/ci/deploy changed: update this test"
    assert setup in text, "scripts/ci/deploy changed: update this test"
    # The check moved after the first apply.
    text = text.replace(verify, "").replace(setup, setup + verify)
    script.write_text(text)
    code, report = check(tmp_path)
    assert code != 0, report
    assert "scripts/ci/deploy: does not run verify-image before it applies" in report
