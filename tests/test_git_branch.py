"""``render --branch``: commit for a pull request without moving the checked-out branch or work tree."""

from __future__ import annotations

from pathlib import Path

from conftest import git
from gitops_fleet import change_node, changed_paths, fleet_repo, node, node_file, rendered_template, repository_state

__all__ = ["fleet_repo", "rendered_template"]

BRANCH = "render/cluster-01"


def test_branch_render_commits_on_new_branch(fleet_repo: Path, invoke) -> None:
    host = node("cluster-01", 1)
    change_node(fleet_repo, host)
    main = git(fleet_repo, "rev-parse", "main").strip()
    before = repository_state(fleet_repo)

    result = invoke("render", "--no-verify", "--repo", str(fleet_repo), "--branch", BRANCH)

    assert result.exit_code == 0, result.output
    assert repository_state(fleet_repo)["files"] == before["files"]
    assert git(fleet_repo, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert git(fleet_repo, "rev-parse", "main").strip() == main
    assert git(fleet_repo, "ls-files", "--stage") == before["index"]
    assert git(fleet_repo, "status", "--porcelain") == before["status"]
    assert git(fleet_repo, "worktree", "list", "--porcelain") == before["worktrees"]
    assert git(fleet_repo, "rev-parse", f"{BRANCH}~1").strip() == main
    assert changed_paths(fleet_repo, "main", BRANCH) == {node_file(host), f"overlays/clusters/cluster-01/node-agents/descriptions/{host}.yaml"}
    assert f"on branch {BRANCH}: Update node {host}" in result.stderr


def test_branch_render_keeps_argo_cd_on_current_branch(fleet_repo: Path, invoke) -> None:
    change_node(fleet_repo, node("cluster-00", 0))

    result = invoke("render", "--no-verify", "--repo", str(fleet_repo), "--branch", BRANCH)

    assert result.exit_code == 0, result.output
    root = git(fleet_repo, "show", f"{BRANCH}:argocd/root.yaml")
    assert "targetRevision: main\n" in root


def test_branch_render_builds_on_existing_branch(fleet_repo: Path, invoke) -> None:
    change_node(fleet_repo, node("cluster-00", 0), cores=30)
    assert invoke("render", "--no-verify", "--repo", str(fleet_repo), "--branch", BRANCH).exit_code == 0
    first = git(fleet_repo, "rev-parse", BRANCH).strip()
    change_node(fleet_repo, node("cluster-00", 0), cores=31)

    result = invoke("render", "--no-verify", "--repo", str(fleet_repo), "--branch", BRANCH)

    assert result.exit_code == 0, result.output
    assert git(fleet_repo, "rev-parse", f"{BRANCH}~1").strip() == first
    assert "cores: 31" in git(fleet_repo, "show", f"{BRANCH}:overlays/clusters/cluster-00/node-agents/descriptions/{node('cluster-00', 0)}.yaml")


def test_branch_render_without_change_commits_nothing(fleet_repo: Path, invoke) -> None:
    refs = git(fleet_repo, "for-each-ref")

    result = invoke("render", "--no-verify", "--repo", str(fleet_repo), "--branch", BRANCH)

    assert result.exit_code == 0, result.output
    assert git(fleet_repo, "for-each-ref") == refs
    assert "nothing to render" in result.stderr


def test_branch_checked_out_elsewhere_is_refused(fleet_repo: Path, invoke, tmp_path: Path) -> None:
    other = tmp_path / "other"
    git(fleet_repo, "worktree", "add", "--quiet", "-b", BRANCH, str(other))
    change_node(fleet_repo, node("cluster-00", 0))
    before = repository_state(fleet_repo)

    result = invoke("render", "--no-verify", "--repo", str(fleet_repo), "--branch", BRANCH)

    assert result.exit_code == 1
    assert f"branch {BRANCH} is checked out in {other}" in result.stderr
    assert repository_state(fleet_repo) == before


def test_invalid_branch_name_is_refused(fleet_repo: Path, invoke) -> None:
    result = invoke("render", "--no-verify", "--repo", str(fleet_repo), "--branch", "two..dots")

    assert result.exit_code == 1
    assert "'two..dots' is not a valid branch name" in result.stderr


def test_branch_with_no_commit_is_a_usage_error(fleet_repo: Path, invoke) -> None:
    result = invoke("render", "--repo", str(fleet_repo), "--branch", BRANCH, "--no-commit")

    assert result.exit_code == 2
    assert "--branch commits, so it cannot be combined with --check or --no-commit" in result.output
