"""The files at the root that someone copying the project reads first stay true: the
licence is MIT, the changelog's versions are ones the release job would release, and
every `make` command the contributing guide names is a target `make help` lists."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# The MIT licence as the SPDX licence list and choosealicense.com give it; {copyright}
# stands for the one line that differs between projects.
MIT = """\
MIT License

{copyright}

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""
COPYRIGHT = re.compile(r"Copyright \(c\) \d{4}(-\d{4})? The weather-dashboard contributors")


def read(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


def words(text: str) -> list[str]:
    """The text without its line breaks and spacing, which do not change a licence."""
    return text.split()


def test_the_licence_is_mit_with_the_contributors_as_copyright_holders():
    text = read("LICENSE")
    holder = COPYRIGHT.search(text)
    assert holder, "LICENSE has no line 'Copyright (c) YEAR The weather-dashboard contributors'"
    assert words(text) == words(MIT.format(copyright=holder[0])), "LICENSE is not the MIT text"


# --- CHANGELOG.md ----------------------------------------------------------------------


def release_version() -> re.Pattern[str]:
    """The versions the release job releases: its own pattern for tags vX.Y.Z."""
    script = read("scripts/ci/release-image")
    found = re.search(r"^version_re='([^']+)'$", script, re.MULTILINE)
    assert found, "scripts/ci/release-image no longer defines version_re"
    return re.compile(found[1])


RELEASED = re.compile(r"## \[(?P<version>[^\]]*)\] - (?P<date>\d{4}-\d{2}-\d{2})")


def changelog_problems(text: str) -> list[str]:
    """What keeps ``text`` from being a Keep a Changelog file whose first section is
    [Unreleased] and whose other sections are released versions, newest first."""
    headings = [line.rstrip() for line in text.splitlines() if line.startswith("## ")]
    if not headings or headings[0] != "## [Unreleased]":
        return ["the first section is not '## [Unreleased]'"]
    problems: list[str] = []
    versions: list[tuple[int, ...]] = []
    tag = release_version()
    for heading in headings[1:]:
        released = RELEASED.fullmatch(heading)
        if not released:
            problems.append(f"{heading!r} is not '## [X.Y.Z] - YYYY-MM-DD'")
            continue
        if not tag.fullmatch(f"v{released['version']}"):
            problems.append(f"{heading!r}: the release job never releases v{released['version']}")
            continue
        try:
            date.fromisoformat(released["date"])
        except ValueError:
            problems.append(f"{heading!r}: {released['date']!r} is not a date YYYY-MM-DD")
        version = tuple(int(n) for n in released["version"].split("."))
        if versions and version >= versions[-1]:
            problems.append(f"{heading!r} is not older than the version above it")
        versions.append(version)
    return problems


def test_the_changelog_has_unreleased_first_then_versions_newest_first():
    assert changelog_problems(read("CHANGELOG.md")) == []


TOP = "# Changelog\n\n## [Unreleased]\n\n### Added\n\n- a thing\n\n"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("# Changelog\n\n## [1.0.0] - 2026-01-02\n", id="no-unreleased"),
        pytest.param(
            "# Changelog\n\n## [1.0.0] - 2026-01-02\n\n## [Unreleased]\n", id="unreleased-not-first"
        ),
        pytest.param(TOP + "## [1.2] - 2026-01-02\n", id="two-numbers"),
        pytest.param(TOP + "## [1.2.0-rc1] - 2026-01-02\n", id="a-suffix"),
        pytest.param(TOP + "## [01.2.0] - 2026-01-02\n", id="a-leading-zero"),
        pytest.param(TOP + "## [v1.2.0] - 2026-01-02\n", id="the-tag-not-the-version"),
        pytest.param(TOP + "## [1.2.0]\n", id="no-date"),
        pytest.param(TOP + "## [1.2.0] - 2026-13-02\n", id="no-such-date"),
        pytest.param(
            TOP + "## [1.2.0] - 2026-01-02\n\n## [1.10.0] - 2026-01-01\n", id="older-above-newer"
        ),
        pytest.param(
            TOP + "## [1.2.0] - 2026-01-02\n\n## [1.2.0] - 2026-01-01\n", id="one-version-twice"
        ),
    ],
)
def test_the_changelog_check_rejects_what_the_release_job_would_not_release(text):
    assert changelog_problems(text) != []


def test_the_changelog_check_accepts_released_versions_newest_first():
    text = TOP + "## [1.10.0] - 2026-03-01\n\n## [1.9.1] - 2026-02-01\n\n## [0.1.0] - 2026-01-01\n"
    assert changelog_problems(text) == []


# --- CONTRIBUTING.md -------------------------------------------------------------------


def help_targets() -> set[str]:
    """The targets `make help` lists: the Makefile's lines `name: ... ## description`
    (the pattern its help rule greps for)."""
    return set(re.findall(r"^([a-z0-9-]+):.*## ", read("Makefile"), re.MULTILINE))


def make_commands(markdown: str) -> set[str]:
    """The targets of the `make TARGET` commands in ``markdown``'s code: fenced blocks
    and inline spans."""
    fences = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
    code = fences.findall(markdown) + re.findall(r"`([^`\n]+)`", fences.sub("", markdown))
    return {target for snippet in code for target in re.findall(r"\bmake +([a-z0-9-]+)", snippet)}


def test_every_make_command_in_the_contributing_guide_is_a_target_make_help_lists():
    named = make_commands(read("CONTRIBUTING.md"))
    assert {"run", "test", "lint"} <= named  # the guide's own commands are found at all
    assert sorted(named - help_targets()) == []
