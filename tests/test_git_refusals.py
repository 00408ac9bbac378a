"""States in which render refuses to write or commit: exit 1, a clear message, the repository as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import git
from gitops_fleet import add_cluster, change_node, fleet_repo, node, rendered_template, repository_state
from mlsysops_gitops.repository import files

__all__ = ["fleet_repo", "rendered_template"]

GENERATED = "overlays/clusters/cluster-01/node-agents/kustomization.yaml"


@pytest.fixture
def pending(fleet_repo: Path) -> Path:
    """Return the repository with a changed node description, so that a render has work to do."""
    change_node(fleet_repo, node("cluster-01", 0))
    return fleet_repo


def _refused(invoke, repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run render, check that it was refused without touching anything, and return its stderr."""
    before = repository_state(repo)
    result = invoke("render", "--no-verify", "--repo", str(repo), *args, env=env)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.stderr.startswith("error: ")
    assert repository_state(repo) == before
    return result.stderr


def test_detached_head_is_refused(pending: Path, invoke) -> None:
    git(pending, "checkout", "--quiet", "--detach")

    message = _refused(invoke, pending)

    assert "HEAD is detached; check out a branch (git switch BRANCH) before rendering" in message


def test_detached_head_is_refused_with_target_revision_set(pending: Path, invoke) -> None:
    git(pending, "checkout", "--quiet", "--detach")

    message = _refused(invoke, pending, env={"MLSYSOPS_GITOPS_TARGET_REVISION": "main"})

    assert "HEAD is detached" in message


def test_hand_edit_of_generated_file_is_refused(pending: Path, invoke) -> None:
    target = pending / GENERATED
    target.write_text(target.read_text(encoding="utf-8") + "# tuned by hand\n", encoding="utf-8")

    message = _refused(invoke, pending)

    assert "1 generated file has uncommitted changes that render did not write" in message
    assert f"  {GENERATED}\n" in message
    assert "--force" in message


def test_untracked_file_in_outputs_is_refused(pending: Path, invoke) -> None:
    extra = pending / "overlays/clusters/cluster-01/extra-patch.yaml"
    extra.write_text("kind: ConfigMap\n", encoding="utf-8")

    message = _refused(invoke, pending)

    assert "overlays/clusters/cluster-01/extra-patch.yaml" in message


def test_force_overwrites_hand_edit_and_names_it(pending: Path, invoke) -> None:
    target = pending / GENERATED
    rendered = target.read_bytes()
    target.write_text(target.read_text(encoding="utf-8") + "# tuned by hand\n", encoding="utf-8")

    result = invoke("render", "--no-verify", "--force", "--repo", str(pending))

    assert result.exit_code == 0, result.output
    assert f"warning: overwriting the uncommitted hand edit of {GENERATED}" in result.stderr
    assert target.read_bytes() == rendered
    assert git(pending, "status", "--porcelain") == ""


def test_existing_index_lock_is_refused_and_kept(pending: Path, invoke) -> None:
    lock = pending / ".git/index.lock"
    lock.write_bytes(b"")

    message = _refused(invoke, pending)

    assert f"{lock} exists" in message
    assert lock.exists()


def test_second_render_on_same_repository_is_refused(pending: Path, invoke) -> None:
    with files.render_lock(pending / ".git"):
        message = _refused(invoke, pending)

    assert "another render is running on this repository" in message


def test_missing_identity_is_refused(pending: Path, invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(name, raising=False)
    # Without this, git may make up an identity from the user and host names.
    git(pending, "config", "user.useConfigOnly", "true")

    message = _refused(invoke, pending)

    assert "git has no identity to commit with; set one with git config user.name" in message


def test_ignored_description_is_refused(fleet_repo: Path, invoke) -> None:
    add_cluster(fleet_repo, "cluster-03")
    (fleet_repo / ".gitignore").write_text("cluster-03-node-*\n", encoding="utf-8")

    message = _refused(invoke, fleet_repo)

    assert "descriptions/nodes/cluster-03-node-0000.yaml is ignored by .gitignore" in message
