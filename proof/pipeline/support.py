"""Helpers for the pipeline checks: running commands and containers, copying the
repository, reading images."""

from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
import shutil
import subprocess
import tarfile
import urllib.request
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts" / "ci"
# What only these checks run, never GitLab (proof/README.md).
PROOF_TOOLS = ROOT / "proof" / "tools"
APP_UID = 10001
# PyPI is reached through a TLS proxy here whose CA only the host trusts: builds and
# containers that run pip get the host's bundle at this path (GitLab needs none of it).
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
HOST_CA_IN_CONTAINER = "/etc/ssl/certs/host-ca.crt"
# Every container these checks start is labelled as this project's; those that reach
# OpenBao, Postgres and the fake upstream on loopback run on the host network.
LABEL = ("--label", "weather-ci")
ON_HOST_NETWORK = ("--network", "host")


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


def attempt(args: Sequence[str | os.PathLike[str]], *, timeout: float = 600) -> tuple[int, str]:
    """Run a command that may fail; return its exit status and all it printed."""
    result = run(args, check=False, timeout=timeout)
    return result.returncode, output(result)


def podman(
    *args: str, check: bool = True, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return run(["podman", *args], check=check, timeout=timeout)


def host_ca_volume() -> list[str]:
    """The mount that hands a container or a build step the host's CA bundle, if any."""
    if not HOST_CA_BUNDLE.exists():
        return []
    return ["--volume", f"{HOST_CA_BUNDLE}:{HOST_CA_IN_CONTAINER}:ro"]


def pip_cache() -> Path:
    """A pip cache on the host the image's user may write, kept between runs, so the
    test jobs do not download their tools again each time (GitLab's `cache:` does that)."""
    cache = Path(os.environ.get("WEATHER_CI_CACHE", "/var/cache/weather-ci")) / "pip-image"
    cache.mkdir(parents=True, exist_ok=True)
    os.chown(cache, APP_UID, APP_UID)
    return cache


def env_args(env: Mapping[str, str]) -> list[str]:
    return [arg for name, value in env.items() for arg in ("--env", f"{name}={value}")]


def podman_run(
    image: str,
    *command: str,
    env: Mapping[str, str] | None = None,
    options: Sequence[str] = (),
    check: bool = True,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    """Run a command in the image to its end, then remove the container."""
    return podman(
        "run",
        "--rm",
        *LABEL,
        *ON_HOST_NETWORK,
        "--no-healthcheck",
        *env_args(env or {}),
        *options,
        image,
        *command,
        check=check,
        timeout=timeout,
    )


@contextmanager
def running(
    image: str,
    *command: str,
    env: Mapping[str, str] | None = None,
    options: Sequence[str] = (),
) -> Iterator[str]:
    """Start a container detached, labelled as this project's, on podman's default
    network unless ``options`` say otherwise (they publish ports too); yield its name,
    then remove it."""
    name = f"weather-ci-{secrets.token_hex(4)}"
    podman(
        "run",
        "--detach",
        "--name",
        name,
        *LABEL,
        *env_args(env or {}),
        *options,
        image,
        *command,
    )
    try:
        yield name
    finally:
        podman("rm", "--force", "--time", "2", name, check=False)


@contextmanager
def serving(image: str, *, env: Mapping[str, str], options: Sequence[str] = ()) -> Iterator[str]:
    """Start the image's own command detached on the host network; yield the
    container's name, then remove it."""
    # No systemd here to drive the periodic timer; `podman healthcheck run` still
    # runs the image's HEALTHCHECK command on demand.
    on_demand_healthcheck = ("--health-interval", "disable")
    with running(
        image, env=env, options=[*ON_HOST_NETWORK, *on_demand_healthcheck, *options]
    ) as name:
        yield name


def answers(url: str) -> bool:
    """Whether ``url`` answers with a success now. No connection, or an error status,
    raises an OSError, which ``tests.support.processes.wait_until`` takes for "not yet"."""
    with urllib.request.urlopen(url, timeout=2):
        return True


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


def copy_paths(names: Iterable[str], dest: Path) -> Path:
    """Copy these files and folders of the repository into dest, at the same paths."""
    for name in names:
        source, target = ROOT / name, dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
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
            data = _read_member(outer, member)
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
                files[path] = _read_member(layer, member)
            else:
                # Directories, links, whiteouts: their names count, their bodies are empty.
                files[path] = member.linkname.encode()
    return files


def _read_member(archive: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    handle = archive.extractfile(member)
    assert handle is not None, f"{member.name} is not a regular file"
    return handle.read()


def inspect(kind: str, name: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = json.loads(podman(kind, "inspect", name).stdout)
    return found[0]


def small_image(directory: Path, label: str) -> str:
    """A one-file image in an OCI layout, its digest decided by `label`: an image to
    push, sign and deploy where what it runs does not matter. Returns an `oci:` reference."""
    blobs = directory / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)

    def blob(data: bytes) -> dict[str, Any]:
        digest = hashlib.sha256(data).hexdigest()
        (blobs / digest).write_bytes(data)
        return {"digest": f"sha256:{digest}", "size": len(data)}

    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as tar:
        info = tarfile.TarInfo("label")
        info.size = len(label.encode())
        tar.addfile(info, io.BytesIO(label.encode()))
    diff_id = "sha256:" + hashlib.sha256(layer.getvalue()).hexdigest()
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Labels": {"variant": label}},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    }
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            **blob(json.dumps(config).encode()),
        },
        "layers": [
            {"mediaType": "application/vnd.oci.image.layer.v1.tar", **blob(layer.getvalue())}
        ],
    }
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                **blob(json.dumps(manifest).encode()),
                "annotations": {"org.opencontainers.image.ref.name": label},
            }
        ],
    }
    (directory / "index.json").write_text(json.dumps(index))
    (directory / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    return f"oci:{directory}:{label}"
