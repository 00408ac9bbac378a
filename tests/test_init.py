"""init: a new GitOps repository that renders as soon as KARMADA_HOST_IP is set."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from conftest import ORIGIN, UPSTREAM, commits, git


def test_init_then_render_empty_folder(tmp_path: Path, invoke: Callable[..., object]) -> None:
    repo = tmp_path / "continuum"
    created = invoke("init", str(repo), "--repo-url", ORIGIN, env={"KARMADA_HOST_IP": None})
    assert created.exit_code == 0, created.output
    assert git(repo, "remote", "get-url", "origin").strip() == ORIGIN
    assert git(repo, "branch", "--show-current").strip() == "main"
    assert git(repo, "status", "--porcelain") == ""
    tracked = git(repo, "ls-files").split()
    assert "README.md" in tracked
    assert "mlsysops-gitops.yaml" in tracked
    assert any(path.startswith("descriptions/nodes/") for path in tracked)

    missing = invoke("render", "--repo", str(repo), env={"KARMADA_HOST_IP": None})
    assert missing.exit_code == 1
    assert "KARMADA_HOST_IP" in missing.output

    rendered = invoke("render", "--repo", str(repo))
    assert rendered.exit_code == 0, rendered.output
    assert len(commits(repo)) == 2
    assert git(repo, "status", "--porcelain") == ""
    assert "repoURL: " + ORIGIN in (repo / "argocd/root.yaml").read_text(encoding="utf-8")
    assert invoke("render", "--repo", str(repo), "--check").exit_code == 0


def test_settings_file_is_commented_and_free_of_placeholders(tmp_path: Path, invoke: Callable[..., object]) -> None:
    repo = tmp_path / "continuum"
    assert invoke("init", str(repo), "--repo-url", ORIGIN).exit_code == 0
    settings = (repo / "mlsysops-gitops.yaml").read_text(encoding="utf-8")
    assert settings.startswith("# ")
    active = [line for line in settings.splitlines() if line and not line.startswith("#")]
    assert active == ["karmada_destination: karmada-apiserver", "agents_tag: 0.1.0"]
    readme = (repo / "README.md").read_text(encoding="utf-8")
    assert "What to review" in readme
    assert "mlsysops-gitops render" in readme


def test_init_from_inventory_renders(tmp_path: Path, invoke: Callable[..., object]) -> None:
    repo = tmp_path / "continuum"
    created = invoke("init", str(repo), "--repo-url", ORIGIN, "--inventory", str(UPSTREAM / "inventory.yaml"))
    assert created.exit_code == 0, created.output
    assert (repo / "descriptions/continuum/mls-test-karmada.yaml").is_file()
    assert not (repo / "descriptions/continuum/karmada-host.yaml").exists()
    assert invoke("render", "--repo", str(repo)).exit_code == 0


def test_init_refuses_a_folder_with_files(tmp_path: Path, invoke: Callable[..., object]) -> None:
    repo = tmp_path / "continuum"
    repo.mkdir()
    (repo / "notes.txt").write_text("mine\n", encoding="utf-8")
    result = invoke("init", str(repo), "--repo-url", ORIGIN)
    assert result.exit_code == 1
    assert "is not an empty folder" in result.output
    assert sorted(path.name for path in repo.iterdir()) == ["notes.txt"]


def test_init_needs_the_url_argo_cd_pulls_from(tmp_path: Path, invoke: Callable[..., object]) -> None:
    result = invoke("init", str(tmp_path / "continuum"))
    assert result.exit_code == 2
    assert "Missing option '--repo-url'" in result.output
    assert not (tmp_path / "continuum").exists()
