"""Stopping the servers the tests start: politely first, then for certain."""

from __future__ import annotations

import subprocess


def stop_process(process: subprocess.Popen[bytes] | None, *, grace: float) -> None:
    """Send SIGTERM, wait ``grace`` seconds, then SIGKILL; a finished process is left alone."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
