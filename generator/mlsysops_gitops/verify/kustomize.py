"""Build every rendered kustomization with the real kustomize before anything lands.

``kustomize build`` is used when it is on PATH, else ``kubectl kustomize`` (kubectl
embeds kustomize). Both run with kustomize's default load restrictor, as Argo CD does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mlsysops_gitops.errors import ToolError


def kustomize_command() -> list[str]:
    """Return the command that builds a kustomization directory given as last argument."""
    kustomize = shutil.which("kustomize")
    if kustomize:
        return [kustomize, "build"]
    kubectl = shutil.which("kubectl")
    if kubectl:
        return [kubectl, "kustomize"]
    raise ToolError("kustomize not found: install kustomize, or kubectl (which embeds it), and put it on PATH")


def build(root: Path, directory: str, command: Sequence[str]) -> bytes:
    """Build one kustomization and return its output.

    Raises:
        ToolError: with the command, directory and kustomize's message when the build fails.
    """
    argv = [*command, directory]
    try:
        result = subprocess.run(argv, cwd=root, capture_output=True, check=False)
    except OSError as error:
        raise ToolError(f"cannot run {' '.join(argv)}: {error.strerror}") from error
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip() or result.stdout.decode("utf-8", "replace").strip()
        indented = "\n".join(f"    {line}" for line in message.splitlines())
        raise ToolError(f"kustomize build failed for {directory}/\n  command: {' '.join(argv)}\n  directory: {root / directory}\n  exit code: {result.returncode}\n{indented}")
    return result.stdout


def build_all(root: Path, directories: Sequence[str], *, jobs: int | None = None) -> dict[str, bytes]:
    """Build every kustomization under ``root`` in parallel; raise on the first failure in path order."""
    if not directories:
        return {}
    command = kustomize_command()
    workers = max(1, jobs or os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {directory: pool.submit(build, root, directory, command) for directory in sorted(directories)}
        return {directory: future.result() for directory, future in futures.items()}
