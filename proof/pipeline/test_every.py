"""docker/every.sh, compose's hourly `purge`: runs at once and then on schedule, keeps
going after a failed run, and stops on SIGTERM even in the middle of its sleep."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from proof.pipeline.support import ROOT

EVERY = ROOT / "docker" / "every.sh"


def every(interval: int, runs: Path) -> subprocess.Popen[str]:
    # Each run notes itself and fails: the schedule must go on regardless.
    return subprocess.Popen(
        ["sh", EVERY, str(interval), "sh", "-c", f"echo run >> {runs}; exit 3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_runs_now_and_again_after_each_interval_even_after_failures(tmp_path):
    runs = tmp_path / "runs"
    process = every(1, runs)
    time.sleep(2.5)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=10)
    assert runs.read_text().count("run") >= 2
    assert "failed (exit 3)" in stderr


def test_sigterm_during_the_sleep_ends_it_cleanly(tmp_path):
    runs = tmp_path / "runs"
    process = every(600, runs)
    time.sleep(1)  # the first run is done; the ten-minute sleep has begun
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=10)  # not the rest of the ten minutes
    assert process.returncode == 0
    assert runs.read_text().count("run") == 1
