"""scripts/ci/release-notes: the GitLab Release's notes for a version tag, the signed
digest and that version's CHANGELOG.md section (Keep a Changelog), nothing more.

Run with the POSIX shell the release-cli image has (`sh`), not bash.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from proof.pipeline.support import ROOT, SCRIPTS, output, run

DIGEST = "sha256:" + "ab" * 32
CHANGELOG = """# Changelog

## [Unreleased]

- Not released yet.

## [1.10.0] - 2026-03-01

### Added

- Deploys, signed.

## [1.1.0] - 2026-01-15

### Fixed

- An older fix.

[1.10.0]: https://example.com/compare/v1.1.0...v1.10.0
"""


def notes(tmp_path: Path, tag: str, changelog: str = CHANGELOG, **env: str):
    (tmp_path / "CHANGELOG.md").write_text(changelog)
    result = run(
        ["sh", SCRIPTS / "release-notes"],
        env={
            "CI_COMMIT_TAG": tag,
            "IMAGE_DIGEST": DIGEST,
            "CI_REGISTRY_IMAGE": "registry.example.com/group/weather",
            "CHANGELOG": str(tmp_path / "CHANGELOG.md"),
            "NOTES": str(tmp_path / "notes.md"),
            **env,
        },
        check=False,
    )
    return result, tmp_path / "notes.md"


def test_notes_hold_the_digest_and_that_versions_section_only(tmp_path):
    result, path = notes(tmp_path, "v1.10.0")
    assert result.returncode == 0, output(result)
    text = path.read_text()
    assert f"`registry.example.com/group/weather@{DIGEST}`" in text
    assert "- Deploys, signed." in text
    for elsewhere in ("Not released yet", "An older fix", "https://example.com/compare"):
        assert elsewhere not in text


@pytest.mark.parametrize(
    ("tag", "env", "why"),
    [
        ("v2.0.0", {}, 'has no section "## [2.0.0]"'),
        ("v1.10", {}, "is not a version tag"),
        ("v1.10.0", {"IMAGE_DIGEST": "latest"}, "is not a digest"),
    ],
    ids=["no changelog section", "not a version", "no digest"],
)
def test_notes_are_refused(tmp_path, tag, env, why):
    result, path = notes(tmp_path, tag, **env)
    assert result.returncode != 0
    assert why in result.stderr
    assert not path.exists()


def test_the_changelog_is_one_the_script_can_read():
    """CHANGELOG.md keeps the headings release-notes looks for."""
    text = (ROOT / "CHANGELOG.md").read_text()
    assert "\n## [Unreleased]\n" in text
