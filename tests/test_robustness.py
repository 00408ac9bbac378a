"""Hostile repository states and inputs end in a message and an exit code, never a traceback or a hang."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import HOST_IP, commits, git

# Limit for the runs that hung before their fix, so that a regression fails instead of hanging.
HANG_LIMIT = 120


def _snapshot(repo: Path) -> dict[str, bytes]:
    return {
        path.relative_to(repo).as_posix(): path.read_bytes()
        for path in sorted(repo.rglob("*"))
        if path.is_file() and not path.is_symlink() and ".git" not in path.relative_to(repo).parts
    }


def _rendered(make_repo, invoke) -> Path:
    repo = make_repo()
    result = invoke("render", "--repo", str(repo))
    assert result.exit_code == 0, result.output
    return repo


def _run(repo: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a child process, which a hang cannot take the test suite down with."""
    environment = {**os.environ, "KARMADA_HOST_IP": HOST_IP, **(env or {})}
    return subprocess.run([sys.executable, "-m", "mlsysops_gitops", *args], cwd=repo, capture_output=True, text=True, env=environment, timeout=HANG_LIMIT, check=False)


# 1. Symlinks that would make render write outside the repository.


def test_render_symlinked_output_subfolder(tmp_path: Path, make_repo, invoke) -> None:
    repo = _rendered(make_repo, invoke)
    victim = tmp_path / "victim"
    victim.mkdir()
    shutil.rmtree(repo / "base" / "redis")
    (repo / "base" / "redis").symlink_to(victim)
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", "plant")
    before, history = _snapshot(repo), commits(repo)

    result = invoke("render", "--repo", str(repo))

    assert result.exit_code == 1
    assert "base/redis is a symlink" in result.stderr
    assert str(victim) in result.stderr
    assert list(victim.iterdir()) == []
    assert _snapshot(repo) == before
    assert commits(repo) == history


def test_render_symlinked_output_folder(tmp_path: Path, make_repo, invoke) -> None:
    repo = make_repo()
    victim = tmp_path / "victim"
    victim.mkdir()
    (repo / "argocd").symlink_to(victim)

    result = invoke("render", "--repo", str(repo), "--no-commit")

    assert result.exit_code == 1
    assert "argocd is a symlink" in result.stderr
    assert list(victim.iterdir()) == []
    assert not (repo / "base").exists()


def test_render_description_linked_outside(tmp_path: Path, make_repo, invoke) -> None:
    repo = make_repo()
    outside = tmp_path / "outside.yaml"
    outside.write_bytes((repo / "descriptions" / "nodes" / "mls-test-vm1.yaml").read_bytes())
    (repo / "descriptions" / "nodes" / "mls-test-vm1.yaml").unlink()
    (repo / "descriptions" / "nodes" / "mls-test-vm1.yaml").symlink_to(outside)

    result = invoke("render", "--repo", str(repo))

    assert result.exit_code == 1
    assert f"descriptions/nodes/mls-test-vm1.yaml: symlink to {outside}, outside the repository" in result.stderr
    assert not (repo / "base").exists()


def test_render_folder_linked_outside(tmp_path: Path, make_repo, invoke) -> None:
    repo = make_repo()
    policies = tmp_path / "policies"
    (policies / "node").mkdir(parents=True)
    (policies / "node" / "policy-x.py").write_text("x = 1\n")
    (repo / "descriptions" / "policies").symlink_to(policies)

    result = invoke("render", "--repo", str(repo))

    assert result.exit_code == 1
    assert f"descriptions/policies: symlink to {policies}, outside the repository" in result.stderr
    assert not (repo / "base").exists()


# 2. No git on PATH.


def test_cli_without_git(tmp_path: Path, make_repo) -> None:
    repo = make_repo()
    empty = tmp_path / "bin"
    empty.mkdir()
    kubectl = shutil.which("kubectl")
    assert kubectl is not None
    (empty / "kubectl").symlink_to(kubectl)
    # Without GIT_PYTHON_REFRESH, as a user would run it: the tool must set it itself.
    environment = {name: value for name, value in os.environ.items() if name != "GIT_PYTHON_REFRESH"}
    environment.update(PATH=str(empty), KARMADA_HOST_IP=HOST_IP)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "mlsysops_gitops", *args], cwd=repo, capture_output=True, text=True, env=environment, timeout=HANG_LIMIT, check=False)

    for args in (("--help",), ("validate",), ("schema", "--out", str(tmp_path / "schemas"))):
        result = run(*args)
        assert result.returncode == 0, (args, result.stderr)
        assert "Traceback" not in result.stderr
    for args in (("render",), ("diff",), ("init", str(tmp_path / "new"), "--repo-url", "https://git.example.com/a.git")):
        result = run(*args)
        assert result.returncode == 3, (args, result.stderr)
        assert "git not found: install git and put it on PATH" in result.stderr
        assert "Traceback" not in result.stderr
    assert not (repo / "base").exists()
    assert not (tmp_path / "new").exists() or not any((tmp_path / "new").iterdir())


# 3. Inputs that ended in "internal error".


@pytest.mark.parametrize("character", [b"\x00", b"\x07"])
def test_validate_control_character(make_repo, invoke, character: bytes) -> None:
    repo = make_repo()
    path = repo / "descriptions" / "nodes" / "mls-test-vm1.yaml"
    lines = path.read_bytes().split(b"\n")
    lines[2] = lines[2] + b" " + character
    path.write_bytes(b"\n".join(lines))

    result = invoke("validate", "--repo", str(repo))

    assert result.exit_code == 1
    assert f"descriptions/nodes/mls-test-vm1.yaml:3:{len(lines[2])}: " in result.stderr
    assert f"character 0x{character[0]:02x}" in result.stderr
    assert "control characters are not allowed in YAML" in result.stderr
    assert "internal error" not in result.stderr


def test_render_symlink_loop(make_repo, invoke) -> None:
    repo = make_repo()
    (repo / "descriptions" / "nodes" / "loop.yaml").symlink_to("loop.yaml")

    result = invoke("render", "--repo", str(repo))

    assert result.exit_code == 1
    assert "descriptions/nodes/loop.yaml: symlink loop" in result.stderr
    assert "internal error" not in result.stderr


def _deny_writes_under(monkeypatch: pytest.MonkeyPatch, folder: Path) -> list[str]:
    """Make every file replace under ``folder`` fail as a read-only folder would (the tests may run as root); return the paths written elsewhere."""
    real_replace = os.replace
    written: list[str] = []

    def replace(source: str, target: str, *args: object, **kwargs: object) -> None:
        if str(target).startswith(f"{folder}{os.sep}"):
            raise PermissionError(errno.EACCES, "Permission denied", str(target))
        real_replace(source, target, *args, **kwargs)
        written.append(str(target))

    monkeypatch.setattr(os, "replace", replace)
    return written


def test_render_unwritable_folder_rolls_back(make_repo, invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _rendered(make_repo, invoke)
    # Render restores these, base/ first, then fails on overlays/.
    (repo / "base" / "redis" / "redis.yaml").unlink()
    next((repo / "overlays").rglob("*.yaml")).unlink()
    before, history = _snapshot(repo), commits(repo)
    written = _deny_writes_under(monkeypatch, repo / "overlays")

    result = invoke("render", "--repo", str(repo))

    assert result.exit_code == 1
    assert "cannot write overlays/" in result.stderr
    assert "permission denied" in result.stderr
    assert any(f"{os.sep}base{os.sep}" in path for path in written), "nothing was written before the failure"
    assert _snapshot(repo) == before
    assert commits(repo) == history


def test_schema_unwritable_folder(tmp_path: Path, invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "schemas"
    _deny_writes_under(monkeypatch, out)

    result = invoke("schema", "--out", str(out))

    assert result.exit_code == 1
    assert "cannot write MLSysOp" in result.stderr
    assert "permission denied" in result.stderr


def test_doctor_binary_application(make_repo, invoke) -> None:
    repo = _rendered(make_repo, invoke)
    application = sorted((repo / "argocd").glob("*.yaml"))[0]
    application.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff")

    result = invoke("doctor", "--repo", str(repo))

    assert result.exit_code == 1
    assert f"argocd/{application.name}: file is not UTF-8 text (byte 0x89 at offset 0)" in result.output
    assert "internal error" not in result.stderr


@pytest.mark.parametrize(
    ("hosts", "message"),
    [
        ("hosts: [a, b]", "'hosts' of group 'edge' must map host names to their variables"),
        ("hosts:\n        a: [1]", "host 'a' must map variable names to values, found a list"),
    ],
)
def test_inventory_hosts_not_mapping(tmp_path: Path, invoke, hosts: str, message: str) -> None:
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(f"all:\n  children:\n    edge:\n      {hosts}\n")

    result = invoke("descriptions", "from-inventory", str(inventory), "--out", str(tmp_path / "descriptions"))

    assert result.exit_code == 1
    assert message in result.stderr
    assert not (tmp_path / "descriptions").exists()


# 4. Files that are not regular files.


def test_render_fifo_description_skipped(make_repo) -> None:
    repo = make_repo()
    os.mkfifo(repo / "descriptions" / "nodes" / "pipe.yaml")

    result = _run(repo, "render")

    assert result.returncode == 0, result.stderr
    assert "descriptions/nodes/pipe.yaml: warning: not read: not a regular file (a FIFO)" in result.stderr
    assert (repo / "argocd").is_dir()


def test_validate_fifo_sealed_secret(make_repo) -> None:
    repo = make_repo()
    (repo / "descriptions" / "secrets" / "management").mkdir(parents=True)
    os.mkfifo(repo / "descriptions" / "secrets" / "management" / "pipe.yaml")

    result = _run(repo, "validate")

    assert result.returncode == 1
    assert "descriptions/secrets/management/pipe.yaml: not read: not a regular file (a FIFO)" in result.stderr


def test_render_fifo_output(make_repo, invoke) -> None:
    repo = _rendered(make_repo, invoke)
    os.mkfifo(repo / "base" / "pipe.yaml")

    result = _run(repo, "render")

    assert result.returncode == 1
    assert "base/pipe.yaml is not a regular file" in result.stderr


# 5. --repo below the work tree's root.


def test_render_repo_below_root(make_repo, invoke) -> None:
    repo = make_repo()
    (repo / "sub" / "descriptions").mkdir(parents=True)
    shutil.copytree(repo / "descriptions", repo / "sub" / "descriptions", dirs_exist_ok=True)

    result = invoke("render", "--repo", str(repo / "sub"))

    assert result.exit_code == 1
    assert f"--repo must be the root of the Git work tree (the work tree root is {repo.resolve()})" in result.stderr
    assert not (repo / "sub" / "base").exists()
    assert commits(repo) == []


# 6. Entries under descriptions/ that nothing reads.


def test_validate_unknown_entries(make_repo, invoke) -> None:
    repo = make_repo()
    descriptions = repo / "descriptions"
    (descriptions / "node").mkdir()
    (descriptions / "node" / "x.yaml").write_text("MLSysOpsNode: {}\n")
    (descriptions / "foo.yaml").write_text("a: 1\n")
    (descriptions / "nodes" / ".x.yaml").write_text("a: 1\n")
    (descriptions / "nodes" / "..yaml").write_text("a: 1\n")
    (descriptions / ".gitkeep").write_text("")

    result = invoke("validate", "--repo", str(repo))

    assert result.exit_code == 0, result.output
    assert "descriptions/node: warning: not read: descriptions/ contains only the folders" in result.stderr
    assert "did you mean 'nodes/'?" in result.stderr
    assert "descriptions/foo.yaml: warning: not read" in result.stderr
    assert "descriptions/nodes/.x.yaml: warning: not read: a hidden file" in result.stderr
    assert "descriptions/nodes/..yaml: warning: not read: a hidden file" in result.stderr
    assert ".gitkeep" not in result.stderr


# 7. A kustomize that never returns.

HANGING_KUBECTL = """#!/bin/sh
if [ "$1" = version ]; then echo "Client Version: v0.0.0-test"; exit 0; fi
exec {sleep} 60
"""


def test_render_kustomize_timeout(tmp_path: Path, make_repo, invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    git_path = shutil.which("git")
    assert git_path is not None
    (bin_dir / "git").symlink_to(git_path)
    (bin_dir / "kubectl").write_text(HANGING_KUBECTL.format(sleep=shutil.which("sleep")))
    (bin_dir / "kubectl").chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))

    result = invoke("--kustomize-timeout", "1", "render", "--repo", str(repo))

    assert result.exit_code == 3
    assert "kustomize build timed out after 1 s for " in result.stderr
    assert not (repo / "base").exists()
    assert commits(repo) == []
