"""Render's Git workflow on real repositories: what one commit holds, what a change touches.

Renders here skip the kustomize verification (``--no-verify``) except in the first test
and in the shared template, because these tests are about Git, and kustomize doubles
their run time on a busy machine.
"""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import commits, git
from gitops_fleet import (
    CLUSTERS,
    CONTINUUM_FILE,
    add_cluster,
    change_node,
    changed_paths,
    fleet_repo,
    node,
    node_file,
    remove_cluster,
    remove_node,
    rendered_template,
    repository_state,
)

__all__ = ["fleet_repo", "rendered_template"]

OWNED_TOPS = ("descriptions", "mlsysops-gitops.yaml", "base", "overlays", "argocd")


def _subject(repo: Path, revision: str = "HEAD") -> str:
    return git(repo, "log", "-1", "--format=%s", revision).strip()


def _body(repo: Path, revision: str = "HEAD") -> str:
    return git(repo, "log", "-1", "--format=%b", revision)


def test_first_render_commits_only_owned_paths(fleet_repo: Path) -> None:
    history = git(fleet_repo, "log", "--format=%s").splitlines()
    committed = git(fleet_repo, "show", "--name-only", "--format=", "HEAD").split()

    assert history == ["Add clusters cluster-00, cluster-01 and cluster-02", "Start the GitOps repository"]
    assert all(path.split("/", 1)[0] in OWNED_TOPS for path in committed)
    assert "descriptions/nodes/cluster-01-node-0001.yaml" in committed
    assert "overlays/clusters/cluster-01/node-agents/descriptions/cluster-01-node-0001.yaml" in committed
    assert "README.md" not in committed


def test_render_leaves_other_work_alone(fleet_repo: Path, invoke) -> None:
    (fleet_repo / "notes.txt").write_text("untracked note\n", encoding="utf-8")
    (fleet_repo / "README.md").write_text("# Our continuum\n\nedited, not staged\n", encoding="utf-8")
    (fleet_repo / "staged.txt").write_text("staged by the user\n", encoding="utf-8")
    git(fleet_repo, "add", "staged.txt")
    change_node(fleet_repo, node("cluster-01", 0))
    before = len(commits(fleet_repo))

    result = invoke("render", "--repo", str(fleet_repo))

    assert result.exit_code == 0, result.output
    assert len(commits(fleet_repo)) == before + 1
    assert changed_paths(fleet_repo) == {
        node_file(node("cluster-01", 0)),
        f"overlays/clusters/cluster-01/node-agents/descriptions/{node('cluster-01', 0)}.yaml",
    }
    assert (fleet_repo / "notes.txt").read_text(encoding="utf-8") == "untracked note\n"
    assert (fleet_repo / "README.md").read_text(encoding="utf-8").endswith("edited, not staged\n")
    status = git(fleet_repo, "status", "--porcelain=v1", "--untracked-files=all").splitlines()
    assert sorted(status) == [" M README.md", "?? notes.txt", "A  staged.txt"]


def test_second_render_commits_nothing(fleet_repo: Path, invoke) -> None:
    head = git(fleet_repo, "rev-parse", "HEAD")

    result = invoke("render", "--no-verify", "--repo", str(fleet_repo))

    assert result.exit_code == 0, result.output
    assert git(fleet_repo, "rev-parse", "HEAD") == head
    assert "nothing to render" in result.stderr
    assert git(fleet_repo, "status", "--porcelain") == ""


def test_every_commit_renders_to_itself(fleet_repo: Path, invoke, tmp_path: Path) -> None:
    change_node(fleet_repo, node("cluster-00", 1))
    assert invoke("render", "--no-verify", "--repo", str(fleet_repo)).exit_code == 0
    add_cluster(fleet_repo, "cluster-03")
    assert invoke("render", "--no-verify", "--repo", str(fleet_repo)).exit_code == 0
    renders = git(fleet_repo, "rev-list", "HEAD~3..HEAD").split()
    assert len(renders) == 3

    for number, commit in enumerate(renders):
        checkout = tmp_path / f"checkout-{number}"
        git(fleet_repo, "worktree", "add", "--quiet", "--detach", str(checkout), commit)
        result = invoke("render", "--repo", str(checkout), "--check", env={"MLSYSOPS_GITOPS_TARGET_REVISION": "main"})
        assert result.exit_code == 0, f"{commit}: {result.output}"


def test_one_node_change_touches_only_its_cluster(fleet_repo: Path, invoke) -> None:
    host = node("cluster-01", 1)
    change_node(fleet_repo, host)

    result = invoke("render", "--no-verify", "--repo", str(fleet_repo))

    assert result.exit_code == 0, result.output
    assert changed_paths(fleet_repo) == {node_file(host), f"overlays/clusters/cluster-01/node-agents/descriptions/{host}.yaml"}
    assert _subject(fleet_repo) == f"Update node {host}"
    assert f"cluster cluster-01: node {host} changed" in _body(fleet_repo)


def test_adding_cluster_touches_shared_files_where_it_must(fleet_repo: Path, invoke) -> None:
    add_cluster(fleet_repo, "cluster-03", nodes=2)

    result = invoke("render", "--no-verify", "--repo", str(fleet_repo))

    assert result.exit_code == 0, result.output
    changed = changed_paths(fleet_repo)
    own = {path for path in changed if "cluster-03" in path}
    assert {path for path in changed if "cluster-03" in path and path.startswith("overlays/clusters/cluster-03/")}
    assert "argocd/apps/clusters/cluster-03.yaml" in own
    assert changed - own == {
        CONTINUUM_FILE,
        "overlays/management/continuum-agent/descriptions/synthetic-karmada.yaml",
        "overlays/karmada/shared-propagation-policy.yaml",
        "argocd/apps/kustomization.yaml",
    }
    assert _subject(fleet_repo) == "Add cluster cluster-03"
    assert "cluster cluster-03 added, cluster agent on cluster-03-master, nodes: cluster-03-node-0000, cluster-03-node-0001" in _body(fleet_repo).replace("\n  ", " ")


def test_removing_node_leaves_no_trace(fleet_repo: Path, invoke) -> None:
    host = node("cluster-02", 1)
    remove_node(fleet_repo, "cluster-02", host)

    result = invoke("render", "--no-verify", "--repo", str(fleet_repo))

    assert result.exit_code == 0, result.output
    assert [path for path in git(fleet_repo, "ls-files").split() if host in path] == []
    assert _grep(fleet_repo, host) == []
    assert not any(host in path.as_posix() for path in fleet_repo.rglob("*") if ".git" not in path.parts)
    assert _subject(fleet_repo) == f"Remove node {host}, update cluster cluster-02"


def test_removing_cluster_leaves_no_trace(fleet_repo: Path, invoke) -> None:
    remove_cluster(fleet_repo, "cluster-02")

    result = invoke("render", "--no-verify", "--repo", str(fleet_repo))

    assert result.exit_code == 0, result.output
    assert [path for path in git(fleet_repo, "ls-files").split() if "cluster-02" in path] == []
    assert _grep(fleet_repo, "cluster-02") == []
    assert not (fleet_repo / "overlays/clusters/cluster-02").exists()
    assert not (fleet_repo / "argocd/clusters/cluster-02").exists()
    assert _subject(fleet_repo) == "Remove cluster cluster-02"


def _grep(repo: Path, text: str) -> list[str]:
    """Return the files at HEAD that contain ``text``."""
    result = subprocess.run(["git", "grep", "--files-with-matches", "--fixed-strings", text, "HEAD"], cwd=repo, capture_output=True, text=True, check=False)
    assert result.returncode in (0, 1), result.stderr
    return result.stdout.split()


def test_long_change_keeps_subject_short(fleet_repo: Path, invoke) -> None:
    for cluster_id in CLUSTERS:
        for number in range(2):
            change_node(fleet_repo, node(cluster_id, number))
    (fleet_repo / "mlsysops-gitops.yaml").write_text("agents_tag: 0.2.0\n", encoding="utf-8")

    result = invoke("render", "--no-verify", "--repo", str(fleet_repo))

    assert result.exit_code == 0, result.output
    subject = _subject(fleet_repo)
    assert len(subject) < 72
    assert subject == "Update 6 nodes, update settings"
    body = _body(fleet_repo)
    assert all(len(line) <= 72 for line in body.splitlines())
    assert "mlsysops-gitops.yaml changed: agents_tag" in body
    for cluster_id in CLUSTERS:
        assert f"cluster {cluster_id}: node {node(cluster_id, 0)} changed, node {node(cluster_id, 1)} changed" in body.replace("\n  ", " ")


def test_author_comes_from_git_config(fleet_repo: Path, invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(name)
    git(fleet_repo, "config", "user.name", "Continuum Operator")
    git(fleet_repo, "config", "user.email", "continuum@example.org")
    change_node(fleet_repo, node("cluster-00", 0))

    result = invoke("render", "--no-verify", "--repo", str(fleet_repo))

    assert result.exit_code == 0, result.output
    assert git(fleet_repo, "log", "-1", "--format=%an <%ae>|%cn <%ce>").strip() == "Continuum Operator <continuum@example.org>|Continuum Operator <continuum@example.org>"


SIGNER = """#!/bin/sh
# Stands in for gpg: records its arguments, then prints a signature and the status line git expects.
echo "$@" >> "{log}"
cat > /dev/null
printf '\\n[GNUPG:] SIG_CREATED D 1 8 00 1767225600 0000000000000000000000000000000000000000\\n' >&2
printf -- '-----BEGIN PGP SIGNATURE-----\\n\\nc3R1Yg==\\n-----END PGP SIGNATURE-----\\n'
exit {code}
"""


def _configure_signer(repo: Path, tmp_path: Path, code: int) -> Path:
    log = tmp_path / "signer.log"
    signer = tmp_path / "signer"
    signer.write_text(SIGNER.format(log=log, code=code), encoding="utf-8")
    signer.chmod(signer.stat().st_mode | stat.S_IXUSR)
    git(repo, "config", "gpg.program", str(signer))
    git(repo, "config", "user.signingkey", "OPERATOR-KEY")
    git(repo, "config", "commit.gpgsign", "true")
    return log


def test_commit_signing_config_is_honoured(fleet_repo: Path, invoke, tmp_path: Path) -> None:
    log = _configure_signer(fleet_repo, tmp_path, code=0)
    change_node(fleet_repo, node("cluster-00", 0))

    result = invoke("render", "--no-verify", "--repo", str(fleet_repo))

    assert result.exit_code == 0, result.output
    assert "OPERATOR-KEY" in log.read_text(encoding="utf-8")
    assert "gpgsig -----BEGIN PGP SIGNATURE-----" in git(fleet_repo, "cat-file", "commit", "HEAD")


def test_failed_signing_leaves_repository_unchanged(fleet_repo: Path, invoke, tmp_path: Path) -> None:
    _configure_signer(fleet_repo, tmp_path, code=1)
    change_node(fleet_repo, node("cluster-00", 0))
    before = repository_state(fleet_repo)

    result = invoke("render", "--no-verify", "--repo", str(fleet_repo))

    assert result.exit_code == 1
    assert "git commit failed" in result.stderr
    assert "Traceback" not in result.output
    assert repository_state(fleet_repo) == before


def test_pre_commit_hook_can_run_render_check(fleet_repo: Path, invoke) -> None:
    hook = fleet_repo / ".git/hooks/pre-commit"
    hook.write_text(f"#!/bin/sh\nexec '{sys.executable}' -m mlsysops_gitops render --check --quiet\n", encoding="utf-8")
    hook.chmod(0o755)
    change_node(fleet_repo, node("cluster-02", 0))

    result = invoke("render", "--no-verify", "--repo", str(fleet_repo))

    assert result.exit_code == 0, result.output
    assert _subject(fleet_repo) == f"Update node {node('cluster-02', 0)}"


def test_no_commit_renders_are_not_hand_edits(fleet_repo: Path, invoke) -> None:
    host = node("cluster-00", 0)
    change_node(fleet_repo, host, cores=10)
    assert invoke("render", "--no-verify", "--repo", str(fleet_repo), "--no-commit").exit_code == 0
    change_node(fleet_repo, host, cores=12)

    second = invoke("render", "--no-verify", "--repo", str(fleet_repo), "--no-commit")
    third = invoke("render", "--no-verify", "--repo", str(fleet_repo))

    assert second.exit_code == 0, second.output
    assert third.exit_code == 0, third.output
    assert "cores: 12" in git(fleet_repo, "show", f"HEAD:overlays/clusters/cluster-00/node-agents/descriptions/{host}.yaml")
