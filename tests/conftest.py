"""Shared fixtures: real Git repositories in temporary folders, with Git made boring.

Author, committer and dates are pinned and the user's Git configuration is ignored, so
commits made by tests are the same on every machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mlsysops_gitops.cli import main

PROJECT = Path(__file__).resolve().parent.parent
SHARED = PROJECT.parent / "shared"
UPSTREAM = SHARED / "reference" / "upstream"
UPSTREAM_DESCRIPTIONS = UPSTREAM / "descriptions"
SCHEMAS = SHARED / "schemas"
ORIGIN = "https://git.example.com/ops/continuum.git"
HOST_IP = "192.0.2.10"

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test Operator",
    "GIT_AUTHOR_EMAIL": "operator@example.com",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00+00:00",
    "GIT_COMMITTER_NAME": "Test Operator",
    "GIT_COMMITTER_EMAIL": "operator@example.com",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00+00:00",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


@pytest.fixture(autouse=True)
def pinned_git(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in GIT_ENV.items():
        monkeypatch.setenv(name, value)
    for name in list(os.environ):
        if name.startswith(("MLSYSOPS_GITOPS_", "MLS_", "KARMADA_", "EJABBERD_", "LOCAL_OTEL")):
            monkeypatch.delenv(name)


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True, env={**os.environ, **GIT_ENV})
    return result.stdout


def write_tree(root: Path, files: Mapping[str, str]) -> None:
    """Write ``{relative path: content}`` under ``root``."""
    for path, content in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[..., Path]:
    """Create a Git repository on branch main with an origin remote and the given descriptions."""

    def make(descriptions: Path | None = UPSTREAM_DESCRIPTIONS, *, name: str = "gitops", files: Mapping[str, str] | None = None) -> Path:
        repo = tmp_path / name
        repo.mkdir()
        git(repo, "init", "--quiet", "--initial-branch=main")
        git(repo, "remote", "add", "origin", ORIGIN)
        if descriptions is not None:
            shutil.copytree(descriptions, repo / "descriptions")
        write_tree(repo, files or {})
        return repo

    return make


@pytest.fixture
def invoke() -> Callable[..., Result]:
    """Run the CLI in-process with ``KARMADA_HOST_IP`` set unless ``env`` overrides it."""

    def run(*args: str, env: Mapping[str, str | None] | None = None) -> Result:
        runner = CliRunner()
        return runner.invoke(main, list(args), env={"KARMADA_HOST_IP": HOST_IP, **(env or {})}, catch_exceptions=False)

    return run


def commits(repo: Path) -> list[str]:
    output = git(repo, "log", "--format=%H", "--all")
    return output.split()
