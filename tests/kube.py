"""Test helpers that read rendered output the way Argo CD would: through kustomize."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml


def kustomize_argv() -> list[str]:
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    return ["kubectl", "kustomize"]


def kustomization_dirs(repo: Path) -> list[Path]:
    found = []
    for folder in ("base", "overlays", "argocd"):
        found += [path.parent for path in (repo / folder).rglob("kustomization.yaml")]
    return sorted(found)


def build(directory: Path) -> list[dict[str, Any]]:
    """Run the real kustomize on ``directory`` and return the objects it emits."""
    result = subprocess.run([*kustomize_argv(), str(directory)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"kustomize build {directory} failed:\n{result.stderr}"
    return [obj for obj in yaml.safe_load_all(result.stdout) if obj]


def by_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [obj for obj in objects if obj["kind"] == kind]
