"""Render fails cleanly: a message, a fixed exit code, and the repository untouched."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from conftest import commits, git

FAILING_KUBECTL = """#!/bin/sh
echo "error: accumulating resources: simulated kustomize failure" >&2
exit 1
"""


def _snapshot(repo: Path) -> dict[str, bytes]:
    return {
        path.relative_to(repo).as_posix(): path.read_bytes()
        for path in sorted(repo.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(repo).parts
    }


def _path_with(tmp_path: Path, scripts: dict[str, str]) -> str:
    """Return a PATH holding git and the given scripts, and nothing else."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "git").symlink_to(shutil.which("git"))
    for name, text in scripts.items():
        script = bin_dir / name
        script.write_text(text)
        script.chmod(0o755)
    return str(bin_dir)


def test_kustomize_failure_exits_3(tmp_path: Path, make_repo, invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo()
    before = _snapshot(repo)
    monkeypatch.setenv("PATH", _path_with(tmp_path, {"kubectl": FAILING_KUBECTL}))

    result = invoke("render", "--repo", str(repo))

    assert result.exit_code == 3
    assert "kustomize build failed for" in result.stderr
    assert "simulated kustomize failure" in result.stderr
    assert "kubectl kustomize" in result.stderr
    assert "Traceback" not in result.output
    assert _snapshot(repo) == before
    assert commits(repo) == []


def test_missing_kustomize_exits_3(tmp_path: Path, make_repo, invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo()
    monkeypatch.setenv("PATH", _path_with(tmp_path, {}))

    result = invoke("render", "--repo", str(repo))

    assert result.exit_code == 3
    assert "kustomize not found" in result.stderr
    assert not (repo / "base").exists()


def test_missing_host_ip_exits_1(make_repo, invoke) -> None:
    repo = make_repo()

    result = invoke("render", "--repo", str(repo), env={"KARMADA_HOST_IP": None})

    assert result.exit_code == 1
    assert "Settings.karmada_host_ip: required setting is missing; set KARMADA_HOST_IP" in result.stderr
    assert "Traceback" not in result.output
    assert not (repo / "base").exists()


def test_no_origin_asks_for_repo_url(make_repo, invoke) -> None:
    repo = make_repo()
    git(repo, "remote", "remove", "origin")

    result = invoke("render", "--repo", str(repo))

    assert result.exit_code == 1
    assert "MLSYSOPS_GITOPS_REPO_URL" in result.stderr
    assert not (repo / "argocd").exists()


def test_plain_folder_renders_without_commit(tmp_path: Path, invoke) -> None:
    from conftest import UPSTREAM_DESCRIPTIONS

    folder = tmp_path / "plain"
    shutil.copytree(UPSTREAM_DESCRIPTIONS, folder / "descriptions")

    result = invoke(
        "render", "--repo", str(folder), "--repo-url", "https://git.example.com/x.git", "--target-revision", "main",
    )

    assert result.exit_code == 0, result.output
    assert (folder / "argocd/root.yaml").is_file()
    assert not (folder / ".git").exists()


def test_every_command_has_help(invoke) -> None:
    from mlsysops_gitops.cli import main

    for name in sorted(main.commands):
        result = invoke(name, "--help")
        assert result.exit_code == 0, name
        assert "Usage:" in result.output


def test_version(invoke) -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.output.startswith("mlsysops-gitops, version ")


def test_unwritable_repo_is_not_a_traceback(tmp_path: Path, invoke) -> None:
    missing = tmp_path / "does-not-exist"

    result = invoke("render", "--repo", str(missing))

    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert os.path.exists(missing) is False
