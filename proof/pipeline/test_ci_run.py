""".ci/run: its header lists exactly the steps and make targets it runs, in order."""

from __future__ import annotations

import re

from proof.pipeline.support import ROOT, run

CI_RUN = ROOT / ".ci" / "run"
MAKE = re.compile(r"\bmake\s+([a-z][a-z0-9-]*)")


def header_steps(text: str) -> list[tuple[str, list[str]]]:
    """The numbered list in the opening comment: (step, make targets on its first line)."""
    steps = []
    for line in text.splitlines()[1:]:
        if not line.startswith("#"):
            break
        step = re.match(r"#\s+(\d+\.\s.+?)\s{2,}(make\s.*)$", line)
        if step:
            steps.append((step.group(1), MAKE.findall(step.group(2))))
    return steps


def run_steps(text: str) -> list[tuple[str, list[str]]]:
    """What the script does: each `section "..."` and the make targets run under it."""
    steps: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        section = re.match(r'section "(.+)"$', line.strip())
        if section:
            steps.append((section.group(1), []))
        elif steps:
            steps[-1][1].extend(MAKE.findall(line))
    return steps


def test_the_header_lists_what_runs_in_order():
    text = CI_RUN.read_text()
    assert len(run_steps(text)) >= 8
    assert header_steps(text) == run_steps(text)


def test_it_fails_fast_and_parses():
    assert "set -o errexit -o nounset -o pipefail" in CI_RUN.read_text()
    run(["bash", "-n", CI_RUN])


def test_the_quick_suites_run_before_the_image_is_built():
    order = [target for _, targets in run_steps(CI_RUN.read_text()) for target in targets]
    assert order.index("lint") < order.index("test") < order.index("pipeline-check")
    assert order[-1] == "pipeline-check"
