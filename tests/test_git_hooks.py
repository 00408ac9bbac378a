"""The pre-commit hook and the example CI workflow that GitOps repositories copy."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

from conftest import PROJECT
from gitops_fleet import change_node, fleet_repo, node, rendered_template

__all__ = ["fleet_repo", "rendered_template"]


def _hook() -> dict:
    (hook,) = yaml.safe_load((PROJECT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    return hook


def test_hook_runs_render_check_on_owned_paths() -> None:
    hook = _hook()

    assert hook["id"] == "mlsysops-gitops-check"
    assert shlex.split(hook["entry"])[:3] == ["mlsysops-gitops", "render", "--check"]
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False
    pattern = re.compile(hook["files"])
    for path in ("descriptions/nodes/a.yaml", "mlsysops-gitops.yaml", "base/redis/redis.yaml", "overlays/karmada/kustomization.yaml", "argocd/root.yaml"):
        assert pattern.search(path), path
    for path in ("README.md", "mlsysops-gitops.yaml.bak", "docs/descriptions/a.yaml"):
        assert not pattern.search(path), path


def test_hook_entry_fails_only_on_stale_outputs(fleet_repo: Path, invoke) -> None:
    arguments = shlex.split(_hook()["entry"])[1:]
    fresh = invoke(*arguments, "--repo", str(fleet_repo))
    change_node(fleet_repo, node("cluster-00", 0))

    stale = invoke(*arguments, "--repo", str(fleet_repo))

    assert fresh.exit_code == 0, fresh.output
    assert stale.exit_code == 1
    assert stale.stdout == f"overlays/clusters/cluster-00/node-agents/descriptions/{node('cluster-00', 0)}.yaml\n"


def test_example_workflow_checks_and_posts_diff() -> None:
    workflow = yaml.safe_load((PROJECT / "examples/ci/github-actions.yaml").read_text(encoding="utf-8"))

    # PyYAML reads the key "on" as True, following YAML 1.1.
    assert "descriptions/**" in workflow[True]["pull_request"]["paths"]
    assert workflow["permissions"]["pull-requests"] == "write"
    runs = [step.get("run", "") for step in workflow["jobs"]["review"]["steps"]]
    assert any("mlsysops-gitops render --check" in run for run in runs)
    diff = next(run for run in runs if "mlsysops-gitops diff" in run)
    assert '--base "$BASE" --format markdown' in diff
    assert any("gh pr comment" in run for run in runs)
