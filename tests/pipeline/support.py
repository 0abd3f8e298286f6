"""Helpers for the pipeline checks: running commands, copying the repository, reading images."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import tarfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts" / "ci"
# What only these checks run, never GitLab (scripts/ci/local/README.md).
LOCAL_SCRIPTS = SCRIPTS / "local"
APP_UID = 10001


def run(
    args: Sequence[str | os.PathLike[str]],
    *,
    env: dict[str, str] | None = None,
    cwd: Path = ROOT,
    check: bool = True,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    """Run a command, output captured; with check, fail showing that output."""
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, args))} exited {result.returncode}\n"
            f"--- stdout\n{result.stdout[-6000:]}\n--- stderr\n{result.stderr[-6000:]}"
        )
    return result


def output(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def podman(*args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
    return run(["podman", *args], check=check, timeout=timeout)


def copy_repository(dest: Path, *, with_untracked: bool = True) -> Path:
    """Copy the files git knows of (tracked, and untracked unless ignored), modes kept."""
    args = ["git", "ls-files", "-z", "--cached"]
    if with_untracked:
        args += ["--others", "--exclude-standard"]
    for name in run(args).stdout.split("\0"):
        source = ROOT / name
        if name and source.is_file():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return dest


@dataclass
class SavedImage:
    """What `podman save` wrote: each layer's files, and the image's JSON documents."""

    documents: dict[str, bytes] = field(default_factory=dict)
    layers: dict[str, dict[str, bytes]] = field(default_factory=dict)

    def files(self) -> Iterator[tuple[str, str, bytes]]:
        for layer, members in self.layers.items():
            for path, data in members.items():
                yield layer, path, data

    def find(self, needle: bytes) -> list[str]:
        """Where in the saved image these bytes occur: documents and layer files."""
        hits = [name for name, data in self.documents.items() if needle in data]
        hits += [f"{layer}:{path}" for layer, path, data in self.files() if needle in data]
        return hits

    def paths(self) -> set[str]:
        return {path for _, path, _ in self.files()}


def read_saved_image(archive: Path) -> SavedImage:
    """Read a docker-archive: every layer tarball, every file in it, all in memory."""
    saved = SavedImage()
    with tarfile.open(archive) as outer:
        for member in outer.getmembers():
            if not member.isfile():
                continue
            data = outer.extractfile(member).read()
            if member.name.endswith(".tar"):
                saved.layers[member.name] = _layer_files(data)
            else:
                saved.documents[member.name] = data
    return saved


def _layer_files(blob: bytes) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(blob)) as layer:
        for member in layer.getmembers():
            path = "/" + member.name.removeprefix("./").lstrip("/")
            if member.isfile():
                files[path] = layer.extractfile(member).read()
            else:
                # Directories, links, whiteouts: their names count, their bodies are empty.
                files[path] = member.linkname.encode()
    return files


def inspect(kind: str, name: str) -> dict:
    return json.loads(podman(kind, "inspect", name).stdout)[0]
