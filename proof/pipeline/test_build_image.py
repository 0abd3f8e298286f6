"""scripts/ci/build-image: what it asks buildah to do, per ref (buildah replaced by a
recorder, so this takes a second; proof/pipeline/test_image.py runs the real build)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from proof.pipeline.support import SCRIPTS, run

DIGEST = "sha256:" + "5" * 64


@pytest.fixture
def recorded(tmp_path: Path):
    """Run build-image with a `buildah` that writes its arguments down; return them."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "buildah.log"
    shim = bin_dir / "buildah"
    # push writes a digest where --digestfile says; pull finds nothing.
    shim.write_text(
        f'#!/bin/sh\necho "$*" >> {log}\n'
        'case " $* " in\n'
        '*" pull "*) exit 1 ;;\n'
        '*" push "*) while [ $# -gt 0 ]; do\n'
        '  [ "$1" = --digestfile ] && printf %s "$DIGEST" > "$2"; shift\n'
        "done ;;\n"
        "esac\n"
    )
    shim.chmod(0o755)

    def build(**env: str) -> list[str]:
        run(
            [SCRIPTS / "build-image"],
            env={
                "PATH": f"{bin_dir}:{os.environ['PATH']}",
                "IMAGE": "registry.example.com/weather:abc",
                "CACHE_REPO": "registry.example.com/weather/build-cache",
                "DIGEST": DIGEST,
                **env,
            },
        )
        return log.read_text().splitlines()

    return build


def test_a_protected_ref_reads_and_writes_the_layer_cache(recorded):
    (call,) = recorded(CI_COMMIT_REF_PROTECTED="true")
    assert call.startswith("build ")
    assert "--cache-from registry.example.com/weather/build-cache" in call
    assert "--cache-to registry.example.com/weather/build-cache" in call


@pytest.mark.parametrize("protected", ["false", "", "TRUE", "1"])
def test_any_other_ref_reads_the_layer_cache_and_never_writes_it(recorded, protected):
    (call,) = recorded(CI_COMMIT_REF_PROTECTED=protected)
    assert "--cache-from registry.example.com/weather/build-cache" in call
    assert "--cache-to" not in call


def test_the_pushed_digest_is_written_as_a_dotenv_report(recorded, tmp_path):
    calls = recorded(PUSH="1", DOTENV=str(tmp_path / "build.env"))
    assert calls[0].startswith("build ")
    assert calls[1].startswith("push --digestfile ")
    assert calls[1].endswith(" registry.example.com/weather:abc")
    assert (tmp_path / "build.env").read_text() == f"IMAGE_DIGEST={DIGEST}\n"


def test_without_a_tested_image_for_the_commit_a_tag_builds(recorded, tmp_path):
    calls = recorded(
        PUSH="1",
        DOTENV=str(tmp_path / "build.env"),
        TESTED_IMAGE="registry.example.com/weather:tested-abc",
    )
    assert calls[0].endswith(" pull --quiet docker://registry.example.com/weather:tested-abc")
    assert [call.split()[0] for call in calls[1:]] == ["build", "push"]
    assert (tmp_path / "build.env").read_text() == f"IMAGE_DIGEST={DIGEST}\n"
