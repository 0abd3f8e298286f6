"""scripts/ci/release-image against a real registry on loopback (proof/pipeline/conftest.py).

What it promotes is copied, never rebuilt: every tag it writes has the tested digest.
Only a protected default branch and protected vX.Y.Z tags release; `latest` follows
the highest version; a version tag, once written, keeps its image.
"""

from __future__ import annotations

import json
import secrets

import pytest

from proof.pipeline.support import SCRIPTS, output, run

PROTECTED = {"CI_COMMIT_REF_PROTECTED": "true", "CI_DEFAULT_BRANCH": "main"}


def digest(reference: str) -> str:
    return run(["skopeo", "inspect", "--format", "{{.Digest}}", reference]).stdout.strip()


def tags(repository: str) -> set[str]:
    listed: list[str] = json.loads(run(["skopeo", "list-tags", repository]).stdout)["Tags"]
    return set(listed)


@pytest.fixture(scope="module")
def repository(registry: str) -> str:
    return f"docker://{registry}/weather-{secrets.token_hex(3)}"


@pytest.fixture(scope="module")
def pushed(image: str, repository: str) -> dict[str, str]:
    """Two different images in the registry, as two builds leave them: {name: digest}."""
    first = f"{repository}:build-a"
    run(["skopeo", "copy", "--quiet", f"docker://{image}", first])
    # The second differs by a label only: a different digest, no second build.
    container = run(["buildah", "from", "--pull=never", image]).stdout.strip()
    try:
        run(["buildah", "config", "--label", "variant=b", container])
        second = f"{repository}:build-b"
        run(["buildah", "commit", "--quiet", "--format", "docker", container, second])
    finally:
        run(["buildah", "rm", container], check=False)
    return {"a": digest(first), "b": digest(f"{repository}:build-b")}


def release(repository: str, key, build: str, **env: str):
    """Release build a or b as GitLab's job does: by the digest build reported, with
    the release key."""
    tested = digest(f"{repository}:build-{build}")
    source = {"SOURCE_IMAGE": f"{repository}@{tested}", "IMAGE_DIGEST": tested}
    return run(
        [SCRIPTS / "release-image"],
        env={**source, "TARGET_REPO": repository, **key.release_env(), **env},
        check=False,
    )


REFUSED = {
    "an unprotected default branch": {"CI_COMMIT_BRANCH": "main", "CI_COMMIT_REF_PROTECTED": ""},
    "an unprotected version tag": {"CI_COMMIT_TAG": "v9.0.0", "CI_COMMIT_REF_PROTECTED": "false"},
    "a protected feature branch": {**PROTECTED, "CI_COMMIT_BRANCH": "feature/x"},
    "a tag that is no version": {**PROTECTED, "CI_COMMIT_TAG": "test-foo"},
    "a partial version": {**PROTECTED, "CI_COMMIT_TAG": "v9.0"},
    "a suffixed version": {**PROTECTED, "CI_COMMIT_TAG": "v9.0.0-rc1"},
    "a version with a leading zero": {**PROTECTED, "CI_COMMIT_TAG": "v9.01.0"},
}


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_release_is_refused_for(case, repository, pushed, release_key):
    before = tags(repository)
    result = release(repository, release_key, "a", **REFUSED[case])
    assert result.returncode != 0, output(result)
    assert "release: refused:" in result.stderr
    assert tags(repository) == before, "a refused release wrote a tag"


def test_release_without_the_key_is_refused(repository, pushed, release_key):
    before = tags(repository)
    for missing in ("SIGNING_KEY", "SIGNING_KEY_PASSPHRASE"):
        result = release(
            repository, release_key, "a", **PROTECTED, CI_COMMIT_BRANCH="main", **{missing: ""}
        )
        assert result.returncode != 0, output(result)
        assert "release: refused:" in result.stderr
    assert tags(repository) == before, "an unsigned release wrote a tag"


def test_every_release_is_signed_with_the_release_key(repository, pushed, release_key, other_key):
    result = release(
        repository,
        release_key,
        "b",
        **PROTECTED,
        # The branch, not a version: `latest` is test_releases_copy_...'s to move.
        CI_COMMIT_BRANCH="main",
        SIGNING_PUBLIC_KEY=str(release_key.public),
    )
    assert result.returncode == 0, output(result)
    # It checked its own signature as deploy will.
    assert "is signed by the release key" in result.stdout
    image = f"{repository.removeprefix('docker://')}@{pushed['b']}"
    for key, verifies in ((release_key, True), (other_key, False)):
        checked = run(
            [SCRIPTS / "verify-image"],
            env={"IMAGE": image, "SIGNING_PUBLIC_KEY": str(key.public)},
            check=False,
        )
        assert (checked.returncode == 0) is verifies, output(checked)


def test_releases_copy_the_tested_digest_and_latest_only_moves_forward(
    repository, pushed, release_key
):
    a, b = pushed["a"], pushed["b"]
    steps = [
        # (ref, build, tags expected with their digests afterwards)
        ({"CI_COMMIT_BRANCH": "main"}, "a", {"main": a}),
        ({"CI_COMMIT_TAG": "v1.2.0"}, "a", {"v1.2.0": a, "latest": a}),
        # An older hotfix is released under its version; latest stays at v1.2.0.
        ({"CI_COMMIT_TAG": "v1.1.5"}, "b", {"v1.1.5": b, "latest": a}),
        # v1.10.0 is newer than v1.2.0 (versions compare by number, not as text).
        ({"CI_COMMIT_TAG": "v1.10.0"}, "b", {"v1.10.0": b, "latest": b}),
        ({"CI_COMMIT_TAG": "v1.9.9"}, "a", {"v1.9.9": a, "latest": b}),
        # A retry of a release is harmless.
        ({"CI_COMMIT_TAG": "v1.2.0"}, "a", {"v1.2.0": a, "latest": b}),
    ]
    for ref, build, expected in steps:
        result = release(repository, release_key, build, **PROTECTED, **ref)
        assert result.returncode == 0, output(result)
        for tag, wanted in expected.items():
            assert digest(f"{repository}:{tag}") == wanted, (ref, tag, output(result))
    assert "latest stays at v1.10.0: v1.9.9 is older" in output(
        release(repository, release_key, "a", **PROTECTED, CI_COMMIT_TAG="v1.9.9")
    )


def test_a_version_tag_is_never_moved_to_another_image(repository, pushed, release_key):
    run_ok = release(repository, release_key, "a", **PROTECTED, CI_COMMIT_TAG="v3.0.0")
    assert run_ok.returncode == 0, output(run_ok)
    moved = release(repository, release_key, "b", **PROTECTED, CI_COMMIT_TAG="v3.0.0")
    assert moved.returncode != 0
    assert f"v3.0.0 already names {pushed['a']}" in moved.stderr
    assert digest(f"{repository}:v3.0.0") == pushed["a"]


def test_the_default_branch_marks_its_tested_digest_for_promotion(repository, pushed, release_key):
    sha = secrets.token_hex(20)
    result = release(
        repository, release_key, "b", **PROTECTED, CI_COMMIT_BRANCH="main", CI_COMMIT_SHA=sha
    )
    assert result.returncode == 0, output(result)
    assert digest(f"{repository}:tested-{sha}") == pushed["b"]
    # A version tag's pipeline has no tested-<sha> of its own: nothing marks it.
    tagged = release(
        repository, release_key, "b", **PROTECTED, CI_COMMIT_TAG="v5.0.0", CI_COMMIT_SHA="f" * 40
    )
    assert tagged.returncode == 0, output(tagged)
    assert "tested-" + "f" * 40 not in tags(repository)


def test_a_version_tag_promotes_what_the_default_branch_tested(
    repository, pushed, tmp_path, release_key
):
    """build-image on a tag whose commit passed on main: that digest, no build, no push."""
    sha = secrets.token_hex(20)
    ok = release(
        repository, release_key, "a", **PROTECTED, CI_COMMIT_BRANCH="main", CI_COMMIT_SHA=sha
    )
    assert ok.returncode == 0, output(ok)
    registry_repo = repository.removeprefix("docker://")
    dotenv = tmp_path / "build.env"
    result = run(
        [SCRIPTS / "build-image"],
        env={
            "IMAGE": f"{registry_repo}:{sha}",
            "PUSH": "1",
            "DOTENV": str(dotenv),
            "TESTED_IMAGE": f"{registry_repo}:tested-{sha}",
            "CONTEXT": "/nonexistent",  # it must not build at all
        },
    )
    assert "promoting it, no build" in result.stdout
    assert dotenv.read_text() == f"IMAGE_DIGEST={pushed['a']}\n"
    assert sha not in tags(repository), "it pushed a new image"


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("{repository}:build-a", id="by tag"),
        pytest.param("{repository}@{b}", id="another digest"),
    ],
)
def test_release_refuses_anything_but_the_tested_digest(repository, pushed, source, release_key):
    before = tags(repository)
    result = run(
        [SCRIPTS / "release-image"],
        env={
            "SOURCE_IMAGE": source.format(repository=repository, b=pushed["b"]),
            "IMAGE_DIGEST": pushed["a"],
            "TARGET_REPO": repository,
            **PROTECTED,
            "CI_COMMIT_TAG": "v7.0.0",
            **release_key.release_env(),
        },
        check=False,
    )
    assert result.returncode != 0
    assert "release: refused:" in result.stderr
    assert tags(repository) == before
