"""``mlsysops-gitops doctor`` on a rendered fleet, as rendered and after breaking changes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from rendered import render_fleet

from mlsysops_gitops.render.argocd import HEALTH_CHECK_KEY

# The health check from Argo CD's documentation, which ignores the sync status.
DOCUMENTED_LUA = """\
hs = {}
hs.status = "Progressing"
if obj.status ~= nil and obj.status.health ~= nil then
  hs.status = obj.status.health.status
end
return hs
"""


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render_fleet(tmp_path_factory.mktemp("doctor"), "3x4").repo


@pytest.fixture
def repo(pristine: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "repo"
    shutil.copytree(pristine, copy)
    return copy


def _argocd_cm(folder: Path, data: dict[str, str]) -> Path:
    lines = ["apiVersion: v1", "kind: ConfigMap", "metadata:", "  name: argocd-cm", "  namespace: argocd", "data:" if data else "data: {}"]
    for key, value in data.items():
        lines.append(f"  {key}: |")
        lines += [f"    {line}" for line in value.splitlines()]
    path = folder / "argocd-cm.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_rendered_repository_passes_with_patch(repo: Path, invoke) -> None:
    result = invoke("doctor", "--repo", str(repo), "--argocd-cm", str(repo / "argocd/argocd-cm-health-patch.yaml"))
    assert result.exit_code == 0, result.output
    assert "0 errors, 0 warnings" in result.stderr


def test_without_argocd_cm_warns(repo: Path, invoke) -> None:
    result = invoke("doctor", "--repo", str(repo))
    assert result.exit_code == 0
    assert "argocd-cm not checked" in result.stdout
    assert "kubectl -n argocd get configmap argocd-cm -o yaml" in result.stdout


def test_argocd_cm_without_health_check_fails(repo: Path, tmp_path: Path, invoke) -> None:
    result = invoke("doctor", "--repo", str(repo), "--argocd-cm", str(_argocd_cm(tmp_path, {})))
    assert result.exit_code == 1
    assert "no health check for argoproj.io/Application" in result.stdout
    assert "--patch-file argocd/argocd-cm-health-patch.yaml" in result.stdout


def test_documented_check_warns_about_sync_status(repo: Path, tmp_path: Path, invoke) -> None:
    result = invoke("doctor", "--repo", str(repo), "--argocd-cm", str(_argocd_cm(tmp_path, {HEALTH_CHECK_KEY: DOCUMENTED_LUA})))
    assert result.exit_code == 0
    assert "ignores obj.status.sync" in result.stdout


def test_legacy_customizations_form_is_read(repo: Path, tmp_path: Path, invoke) -> None:
    legacy = "argoproj.io/Application:\n  health.lua: |\n" + "".join(f"    {line}\n" for line in DOCUMENTED_LUA.splitlines())
    result = invoke("doctor", "--repo", str(repo), "--argocd-cm", str(_argocd_cm(tmp_path, {"resource.customizations": legacy})))
    assert result.exit_code == 0, result.stdout
    assert "no health check" not in result.stdout


def test_exclusion_of_daemonsets_fails(repo: Path, tmp_path: Path, invoke) -> None:
    data = {HEALTH_CHECK_KEY: DOCUMENTED_LUA, "resource.exclusions": "- apiGroups: [apps]\n  kinds: ['*']\n  clusters: ['*']"}
    result = invoke("doctor", "--repo", str(repo), "--argocd-cm", str(_argocd_cm(tmp_path, data)))
    assert result.exit_code == 1
    assert "excludes apps/DaemonSet" in result.stdout


def test_invalid_argocd_cm_is_located(repo: Path, tmp_path: Path, invoke) -> None:
    broken = tmp_path / "argocd-cm.yaml"
    broken.write_text("data: [\n", encoding="utf-8")
    result = invoke("doctor", "--repo", str(repo), "--argocd-cm", str(broken))
    assert result.exit_code == 1
    assert f"{broken}:2:1: invalid YAML" in result.stdout
    assert "Traceback" not in result.output


def test_node_agents_in_cluster_agent_wave_fail(repo: Path, invoke) -> None:
    _replace(repo / "argocd/clusters/cluster-01/mlsysops-node-agents-cluster-01.yaml", "sync-wave: '4'", "sync-wave: '3'")
    result = invoke("doctor", "--repo", str(repo), "--format", "json")
    assert result.exit_code == 1
    (problem,) = [problem for problem in json.loads(result.stdout) if problem["severity"] == "error"]
    assert problem["path"] == "argocd/clusters/cluster-01/mlsysops-node-agents-cluster-01.yaml"
    assert "mlsysops-cluster-agent-cluster-01 (wave 3) must be healthy before" in problem["message"]


def test_unquoted_wave_fails(repo: Path, invoke) -> None:
    _replace(repo / "argocd/apps/mlsysops-services.yaml", "sync-wave: '1'", "sync-wave: 1")
    result = invoke("doctor", "--repo", str(repo))
    assert result.exit_code == 1
    assert "1 is not a string" in result.stdout


def test_flat_cluster_layout_fails(repo: Path, invoke) -> None:
    # Move every cluster's Applications into the root app-of-apps.
    apps = repo / "argocd/apps"
    kustomization = apps / "kustomization.yaml"
    text = kustomization.read_text(encoding="utf-8")
    for cluster in ("cluster-00", "cluster-01", "cluster-02"):
        (apps / f"clusters/{cluster}.yaml").unlink()
        for part in ("cluster-agent", "node-agents"):
            shutil.copy(repo / f"argocd/clusters/{cluster}/mlsysops-{part}-{cluster}.yaml", apps / f"mlsysops-{part}-{cluster}.yaml")
        text = text.replace(f"- clusters/{cluster}.yaml\n", f"- mlsysops-cluster-agent-{cluster}.yaml\n- mlsysops-node-agents-{cluster}.yaml\n")
    kustomization.write_text(text, encoding="utf-8")
    result = invoke("doctor", "--repo", str(repo))
    assert result.exit_code == 1
    assert "a failure in cluster 'cluster-00' would hold it back" in result.stdout
    assert "no parent Application lists this file" in result.stdout


def test_policy_without_clusters_fails(repo: Path, invoke) -> None:
    _replace(repo / "overlays/clusters/cluster-02/cluster-agent/propagation-policy.yaml", "clusterNames:\n      - cluster-02\n", "clusterNames: []\n")
    result = invoke("doctor", "--repo", str(repo))
    assert result.exit_code == 1
    assert "expected ['cluster-02']" in result.stdout


def test_missing_rendered_output_is_reported(tmp_path: Path, invoke) -> None:
    result = invoke("doctor", "--repo", str(tmp_path))
    assert result.exit_code == 1
    assert "argocd/kustomization.yaml: file not found; run mlsysops-gitops render" in result.stdout


def test_malformed_application_is_reported(repo: Path, invoke) -> None:
    (repo / "argocd/apps/mlsysops-services.yaml").write_text("apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: []\nspec: 7\n", encoding="utf-8")
    result = invoke("doctor", "--repo", str(repo))
    assert result.exit_code == 1
    assert "path '' contains no kustomization.yaml" in result.stdout
    assert "Traceback" not in result.output
