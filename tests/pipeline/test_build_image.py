"""scripts/ci/build-image: what it asks buildah to do, per ref (buildah replaced by a
recorder, so this takes a second; tests/pipeline/test_image.py runs the real build)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.pipeline.support import SCRIPTS, run


@pytest.fixture
def recorded(tmp_path: Path):
    """Run build-image with a `buildah` that writes its arguments down; return them."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "buildah.log"
    shim = bin_dir / "buildah"
    shim.write_text(f'#!/bin/sh\necho "$*" >> {log}\n')
    shim.chmod(0o755)

    def build(**env: str) -> list[str]:
        run(
            [SCRIPTS / "build-image"],
            env={
                "PATH": f"{bin_dir}:{os.environ['PATH']}",
                "IMAGE": "registry.example.com/weather:abc",
                "CACHE_REPO": "registry.example.com/weather/build-cache",
                **env,
            },
        )
        return log.read_text().splitlines()

    return build


def test_a_protected_ref_reads_and_writes_the_layer_cache(recorded):
    (call,) = recorded(CI_COMMIT_REF_PROTECTED="true")
    assert "--cache-from registry.example.com/weather/build-cache" in call
    assert "--cache-to registry.example.com/weather/build-cache" in call


@pytest.mark.parametrize("protected", ["false", "", "TRUE", "1"])
def test_any_other_ref_reads_the_layer_cache_and_never_writes_it(recorded, protected):
    (call,) = recorded(CI_COMMIT_REF_PROTECTED=protected)
    assert "--cache-from registry.example.com/weather/build-cache" in call
    assert "--cache-to" not in call
