"""Render each kustomize overlay once per session; the tools come from `make k8s-check`."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "kubernetes"
OVERLAYS = ("dev", "staging", "production")


def kubectl() -> str:
    """The kubectl `make k8s-check` chose (PATH first, else the pinned wheel's)."""
    found = os.environ.get("KUBECTL") or shutil.which("kubectl")
    if not found:
        pytest.fail("kubectl not found: run these tests with `make k8s-check`")
    return found


def tool(name: str) -> str:
    """A checker installed from proof/requirements/k8s.txt into .venv-k8s."""
    path = Path(os.environ.get("K8S_TOOLS", ROOT / ".venv-k8s" / "bin")) / name
    if not path.exists():
        pytest.fail(f"{name} not found in {path.parent}: run these tests with `make k8s-check`")
    return str(path)


@dataclass
class Rendered:
    """One overlay as `kubectl kustomize` renders it: the text, and its documents."""

    overlay: str
    path: Path
    text: str
    documents: list[dict[str, Any]] = field(default_factory=list)

    def one(self, kind: str, name: str | None = None) -> dict[str, Any]:
        found = [
            doc
            for doc in self.documents
            if doc["kind"] == kind and (name is None or doc["metadata"]["name"] == name)
        ]
        assert len(found) == 1, f"{self.overlay}: {len(found)} {kind} named {name}"
        return found[0]

    def all(self, kind: str) -> list[dict[str, Any]]:
        return [doc for doc in self.documents if doc["kind"] == kind]


@pytest.fixture(scope="session")
def rendered_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("rendered")


@pytest.fixture(scope="session", params=OVERLAYS)
def rendered(request: pytest.FixtureRequest, rendered_dir: Path) -> Rendered:
    """The overlay rendered to a file (checkers read files) and parsed."""
    overlay: str = request.param
    result = subprocess.run(
        [kubectl(), "kustomize", str(DEPLOY / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"kustomize failed for {overlay}:\n{result.stderr}"
    path = rendered_dir / f"{overlay}.yaml"
    path.write_text(result.stdout)
    documents = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    return Rendered(overlay=overlay, path=path, text=result.stdout, documents=documents)
