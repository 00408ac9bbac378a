"""Same inputs, same bytes: whatever the hash seed, locale, time zone, umask or file order."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import GIT_ENV, HOST_IP, UPSTREAM_DESCRIPTIONS, commits, git

OUTPUT_DIRS = ("base", "overlays", "argocd")


def _copy_in_order(source: Path, target: Path, *, reverse: bool) -> None:
    """Copy a tree creating files in sorted or reversed order, so directory order differs."""
    paths = sorted(source.rglob("*"), reverse=reverse)
    for path in sorted((p for p in paths if p.is_dir()), key=lambda p: len(p.parts)):
        (target / path.relative_to(source)).mkdir(parents=True, exist_ok=True)
    for path in paths:
        if path.is_file():
            shutil.copyfile(path, target / path.relative_to(source))


def _render(repo: Path, *, seed: str, locale: str, zone: str, umask: int) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        **GIT_ENV,
        "KARMADA_HOST_IP": HOST_IP,
        "PYTHONHASHSEED": seed,
        "LC_ALL": locale,
        "LANG": locale,
        "TZ": zone,
    }
    code = f"import os, sys; os.umask({umask:#o}); from mlsysops_gitops.cli import main; sys.argv[0] = 'mlsysops-gitops'; main()"
    return subprocess.run([sys.executable, "-c", code, "render", "--repo", str(repo)], env=env, capture_output=True, text=True, check=False)


def _outputs(repo: Path) -> dict[str, bytes]:
    return {
        path.relative_to(repo).as_posix(): path.read_bytes()
        for folder in OUTPUT_DIRS
        for path in sorted((repo / folder).rglob("*"))
        if path.is_file()
    }


def _repo(root: Path, *, reverse: bool) -> Path:
    root.mkdir()
    git(root, "init", "--quiet", "--initial-branch=main")
    git(root, "remote", "add", "origin", "https://git.example.com/ops/continuum.git")
    _copy_in_order(UPSTREAM_DESCRIPTIONS, root / "descriptions", reverse=reverse)
    return root


def test_renders_are_byte_identical(tmp_path: Path) -> None:
    first = _repo(tmp_path / "first", reverse=False)
    second = _repo(tmp_path / "second", reverse=True)

    one = _render(first, seed="1", locale="C", zone="UTC", umask=0o022)
    two = _render(second, seed="4242", locale="C.UTF-8", zone="Asia/Kolkata", umask=0o077)

    assert one.returncode == 0, one.stderr
    assert two.returncode == 0, two.stderr
    assert _outputs(first) == _outputs(second)
    assert git(first, "rev-parse", "HEAD^{tree}") == git(second, "rev-parse", "HEAD^{tree}")


def test_second_render_changes_nothing(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo", reverse=False)
    assert _render(repo, seed="1", locale="C", zone="UTC", umask=0o022).returncode == 0
    before = {path: (repo / path).stat().st_mtime_ns for path in _outputs(repo)}
    history = commits(repo)

    again = _render(repo, seed="99", locale="C.UTF-8", zone="America/New_York", umask=0o002)

    assert again.returncode == 0, again.stderr
    assert commits(repo) == history
    assert {path: (repo / path).stat().st_mtime_ns for path in _outputs(repo)} == before
    assert git(repo, "status", "--porcelain") == ""
