"""Render the upstream MLSysOps descriptions end to end into a fresh Git repository."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import HOST_IP, ORIGIN, UPSTREAM_DESCRIPTIONS, commits, git
from kube import build, by_kind, kustomization_dirs

CLUSTER = "mls-test-manage"
NODES = ("mls-compute-vm2", "mls-test-vm1")


@pytest.fixture
def rendered(make_repo, invoke) -> Path:
    repo = make_repo()
    result = invoke("render", "--repo", str(repo))
    assert result.exit_code == 0, result.output
    return repo


def _description(folder: str, host: str) -> str:
    return (UPSTREAM_DESCRIPTIONS / folder / f"{host}.yaml").read_text(encoding="utf-8")


def _configmap_files(objects: list[dict]) -> dict[str, str]:
    files: dict[str, str] = {}
    for configmap in by_kind(objects, "ConfigMap"):
        files.update(configmap.get("data") or {})
    return files


def test_render_makes_one_commit(rendered: Path) -> None:
    assert len(commits(rendered)) == 1
    assert git(rendered, "status", "--porcelain") == ""


def test_commit_holds_inputs_and_outputs(rendered: Path) -> None:
    tracked = git(rendered, "ls-files").split()
    assert "descriptions/nodes/mls-test-vm1.yaml" in tracked
    assert "base/node-agent/kustomization.yaml" in tracked
    assert f"overlays/clusters/{CLUSTER}/node-agents/kustomization.yaml" in tracked
    assert "argocd/root.yaml" in tracked


def test_every_kustomization_builds(rendered: Path) -> None:
    directories = kustomization_dirs(rendered)
    assert len(directories) >= 14
    for directory in directories:
        assert build(directory), f"{directory} built to nothing"


def test_continuum_description_reaches_management(rendered: Path) -> None:
    objects = build(rendered / "overlays/management/continuum-agent")
    files = _configmap_files(objects)
    assert files == {"mls-test-karmada.yaml": _description("continuum", "mls-test-karmada")}


def test_cluster_description_reaches_its_overlay(rendered: Path) -> None:
    objects = build(rendered / f"overlays/clusters/{CLUSTER}/cluster-agent")
    assert _configmap_files(objects) == {f"{CLUSTER}.yaml": _description("clusters", CLUSTER)}


def test_node_descriptions_reach_their_overlay(rendered: Path) -> None:
    objects = build(rendered / f"overlays/clusters/{CLUSTER}/node-agents")
    expected = {f"{host}.yaml": _description("nodes", host) for host in NODES}
    assert _configmap_files(objects) == expected


def test_agents_mount_descriptions_where_agents_read(rendered: Path) -> None:
    objects = build(rendered / f"overlays/clusters/{CLUSTER}/node-agents")
    (daemonset,) = by_kind(objects, "DaemonSet")
    container = daemonset["spec"]["template"]["spec"]["containers"][0]
    mounts = {mount["name"]: mount["mountPath"] for mount in container["volumeMounts"]}
    assert mounts["descriptions"] == "/etc/mlsysops/descriptions"
    env = {entry["name"]: entry.get("value") for entry in container["env"]}
    assert env["DESCRIPTION_PATH"] == "/etc/mlsysops/descriptions"
    assert env["REDIS_HOST"] == HOST_IP
    assert env["EJABBERD_DOMAIN"] == HOST_IP
    names = {configmap["metadata"]["name"] for configmap in by_kind(objects, "ConfigMap")}
    projected = daemonset["spec"]["template"]["spec"]["volumes"][0]["projected"]["sources"]
    assert {source["configMap"]["name"] for source in projected} <= names


def _waves(repo: Path) -> dict[str, int]:
    waves = {}
    for path in sorted((repo / "argocd").rglob("*.yaml")):
        if path.name == "kustomization.yaml" or path.name.startswith("argocd-cm"):
            continue
        obj = yaml.safe_load(path.read_text())
        if obj["kind"] == "Application":
            annotation = obj["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]
            assert isinstance(annotation, str)
            waves[obj["metadata"]["name"]] = int(annotation)
    return waves


def test_applications_follow_bootstrap_order(rendered: Path) -> None:
    waves = _waves(rendered)
    assert waves["mlsysops-framework"] < waves["mlsysops-services"]
    assert waves["mlsysops-services"] < waves["mlsysops-continuum-agent"]
    assert waves["mlsysops-continuum-agent"] < waves[f"mlsysops-cluster-agent-{CLUSTER}"]
    assert waves[f"mlsysops-cluster-agent-{CLUSTER}"] < waves[f"mlsysops-node-agents-{CLUSTER}"]


def test_applications_use_origin_and_branch(rendered: Path) -> None:
    root = yaml.safe_load((rendered / "argocd/root.yaml").read_text())
    assert root["spec"]["source"]["repoURL"] == ORIGIN
    assert root["spec"]["source"]["targetRevision"] == "main"
    assert root["spec"]["source"]["path"] == "argocd/apps"


def test_applications_target_their_destinations(rendered: Path) -> None:
    services = yaml.safe_load((rendered / "argocd/apps/mlsysops-services.yaml").read_text())
    assert services["spec"]["destination"]["name"] == "in-cluster"
    node_agents = yaml.safe_load((rendered / f"argocd/clusters/{CLUSTER}/mlsysops-node-agents-{CLUSTER}.yaml").read_text())
    assert node_agents["spec"]["destination"]["name"] == "karmada-apiserver"


def test_second_render_commits_nothing(rendered: Path, invoke) -> None:
    before = commits(rendered)
    result = invoke("render", "--repo", str(rendered))
    assert result.exit_code == 0
    assert commits(rendered) == before


def test_check_lists_stale_files(rendered: Path, invoke) -> None:
    node = rendered / "descriptions/nodes/mls-test-vm1.yaml"
    node.write_text(node.read_text().replace("cores: 2", "cores: 4"))
    result = invoke("render", "--repo", str(rendered), "--check")
    assert result.exit_code == 1
    assert f"overlays/clusters/{CLUSTER}/node-agents/descriptions/mls-test-vm1.yaml" in result.stdout.split()
    assert git(rendered, "status", "--porcelain").split() == ["M", "descriptions/nodes/mls-test-vm1.yaml"]
