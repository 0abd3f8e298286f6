"""How much memory the processes the tests start use, read from /proc (Linux only)."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from types import TracebackType
from typing import Self

PROC = Path("/proc")


def children(pid: int) -> list[int]:
    """The ids of ``pid``'s child processes (a gunicorn master's workers)."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in (PROC / str(pid) / "task").iterdir():
            with contextlib.suppress(OSError):
                found += [int(child) for child in (task / "children").read_text().split()]
    return found


def memory_kib(pid: int, field: str = "VmRSS") -> int | None:
    """A ``Vm*`` line of /proc/<pid>/status in KiB (VmRSS now, VmHWM the peak), or None."""
    try:
        lines = (PROC / str(pid) / "status").read_text().splitlines()
    except OSError:
        return None  # the process is gone
    for line in lines:
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return None


def reset_peak(pid: int) -> bool:
    """Restart ``pid``'s VmHWM from its current RSS; False where the kernel does not allow it."""
    try:
        (PROC / str(pid) / "clear_refs").write_text("5")
    except OSError:
        return False
    return True


class PeakRss:
    """The largest resident set of any child of ``parent`` while the block runs, in MiB.

    RSS is sampled every ``interval`` seconds; where the kernel lets the peak be reset,
    each child's VmHWM at the end also counts, which catches spikes between samples.
    """

    def __init__(self, parent: int, *, interval: float = 0.02) -> None:
        self.parent = parent
        self.interval = interval
        self.peak_kib = 0
        self._hwm_pids: set[int] = set()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True, name="peak-rss")

    @property
    def peak_mib(self) -> float:
        return self.peak_kib / 1024

    def _measure(self, field: str, pids: list[int] | set[int]) -> None:
        for pid in pids:
            self.peak_kib = max(self.peak_kib, memory_kib(pid, field) or 0)

    def _sample(self) -> None:
        while not self._done.wait(self.interval):
            self._measure("VmRSS", children(self.parent))

    def __enter__(self) -> Self:
        self._hwm_pids = {pid for pid in children(self.parent) if reset_peak(pid)}
        self._measure("VmRSS", children(self.parent))
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._done.set()
        self._thread.join(timeout=5)
        self._measure("VmRSS", children(self.parent))
        # A worker that was replaced meanwhile is not in _hwm_pids: its peak is its own.
        self._measure("VmHWM", self._hwm_pids & set(children(self.parent)))
