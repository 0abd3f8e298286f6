"""The servers the tests start: waiting until they answer, and stopping them."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    ready: Callable[[], T],
    *,
    what: str,
    timeout: float,
    process: subprocess.Popen[bytes] | None = None,
    log: Callable[[], str] = str,
    on_failure: Callable[[], None] = lambda: None,
) -> T:
    """Call ``ready`` every 0.1 s until it returns something true, and return that.

    A connection error (requests' errors are OSErrors too) counts as "not yet". Once
    ``process`` has exited or the time is up, calls ``on_failure`` and raises
    RuntimeError with ``log()`` in the message.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            problem = "exited early"
            break
        try:
            if result := ready():
                return result
        except OSError:
            pass
        time.sleep(0.1)
    else:
        problem = f"was not ready in {timeout} s"
    message = f"{what} {problem}:\n{log()}"
    on_failure()
    raise RuntimeError(message)


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
