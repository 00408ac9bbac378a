"""A rendered three-cluster GitOps repository for the Git workflow, diff and graph tests.

The repository is rendered once per test session and copied for each test, so every
test starts from a real commit history: a first commit with a README, then one render.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import GIT_ENV, HOST_IP, ORIGIN, git
from fleets import node_text, write_fleet
from mlsysops_gitops.cli import main

CLUSTERS = ("cluster-00", "cluster-01", "cluster-02")
NODES_PER_CLUSTER = 2
NODE_BYTES = 1024
CONTINUUM_FILE = "descriptions/continuum/synthetic-karmada.yaml"


def node(cluster_id: str, number: int) -> str:
    return f"{cluster_id}-node-{number:04d}"


def node_file(host: str) -> str:
    return f"descriptions/nodes/{host}.yaml"


def cluster_file(cluster_id: str) -> str:
    return f"descriptions/clusters/{cluster_id}-master.yaml"


# Each test module that imports the fixture gets its own copy of it, so the rendered
# repository is cached here to render it once per session.
_TEMPLATES: list[Path] = []


@pytest.fixture(scope="session")
def rendered_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Render the three-cluster fleet once into a repository on branch main."""
    if not _TEMPLATES:
        _TEMPLATES.append(_render_template(tmp_path_factory))
    return _TEMPLATES[0]


def _render_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith(("MLSYSOPS_GITOPS_", "KARMADA_", "EJABBERD_", "MLS_")):
                patch.delenv(name)
        for name, value in GIT_ENV.items():
            patch.setenv(name, value)
        repo = tmp_path_factory.mktemp("template") / "gitops"
        repo.mkdir()
        git(repo, "init", "--quiet", "--initial-branch=main")
        git(repo, "remote", "add", "origin", ORIGIN)
        (repo / "README.md").write_text("# Our continuum\n", encoding="utf-8")
        git(repo, "add", "README.md")
        git(repo, "commit", "--quiet", "--message", "Start the GitOps repository")
        write_fleet(repo, clusters=len(CLUSTERS), nodes_per_cluster=NODES_PER_CLUSTER, node_bytes=NODE_BYTES)
        result = CliRunner().invoke(main, ["render", "--repo", str(repo)], env={"KARMADA_HOST_IP": HOST_IP}, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        # Fewer files under .git make the copy for each test faster.
        git(repo, "gc", "--quiet")
    return repo


@pytest.fixture
def fleet_repo(rendered_template: Path, tmp_path: Path) -> Iterator[Path]:
    """Return a private copy of the rendered three-cluster repository."""
    repo = tmp_path / "gitops"
    shutil.copytree(rendered_template, repo, symlinks=True)
    yield repo


def change_node(repo: Path, host: str, cores: int = 64) -> None:
    """Give a node description another CPU core count."""
    path = repo / node_file(host)
    text = path.read_text(encoding="utf-8")
    lines = [f"      cores: {cores}" if line.startswith("      cores: ") else line for line in text.splitlines()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def remove_node(repo: Path, cluster_id: str, host: str) -> None:
    _drop_line(repo / cluster_file(cluster_id), f"    - {host}")
    (repo / node_file(host)).unlink()


def remove_cluster(repo: Path, cluster_id: str) -> None:
    _drop_line(repo / CONTINUUM_FILE, f"    - {cluster_id}")
    (repo / cluster_file(cluster_id)).unlink()
    for number in range(NODES_PER_CLUSTER):
        (repo / node_file(node(cluster_id, number))).unlink()


def add_cluster(repo: Path, cluster_id: str, nodes: int = 1) -> None:
    hosts = [node(cluster_id, number) for number in range(nodes)]
    node_lines = "".join(f"    - {host}\n" for host in hosts)
    (repo / cluster_file(cluster_id)).write_text(
        f"MLSysOpsCluster:\n  name: {cluster_id}-master\n  cluster_id: {cluster_id}\n  nodes:\n{node_lines}", encoding="utf-8"
    )
    for number, host in enumerate(hosts):
        (repo / node_file(host)).write_text(node_text(host, cluster_id, number, NODE_BYTES), encoding="utf-8")
    continuum = repo / CONTINUUM_FILE
    continuum.write_text(continuum.read_text(encoding="utf-8") + f"    - {cluster_id}\n", encoding="utf-8")


def _drop_line(path: Path, line: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert line in lines, f"{line!r} not in {path}"
    path.write_text("\n".join(entry for entry in lines if entry != line) + "\n", encoding="utf-8")


def repository_state(repo: Path) -> dict[str, object]:
    """Return everything a refused render must leave as it was: files, refs, index, status."""
    files = {
        path.relative_to(repo).as_posix(): path.read_bytes()
        for path in sorted(repo.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(repo).parts
    }
    return {
        "files": files,
        "head": _git_or_none(repo, "symbolic-ref", "--quiet", "HEAD") or git(repo, "rev-parse", "HEAD"),
        "refs": git(repo, "for-each-ref"),
        "index": git(repo, "ls-files", "--stage"),
        "status": git(repo, "status", "--porcelain=v1", "--untracked-files=all"),
        "worktrees": git(repo, "worktree", "list", "--porcelain"),
    }


def _git_or_none(repo: Path, *args: str) -> str | None:
    result = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False, env={**os.environ, **GIT_ENV})
    return result.stdout if result.returncode == 0 else None


def changed_paths(repo: Path, old: str = "HEAD~1", new: str = "HEAD") -> set[str]:
    return set(git(repo, "diff", "--name-only", "--no-renames", old, new).split())
