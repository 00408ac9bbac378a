"""``mlsysops-gitops diff``: a fresh render against the committed outputs, read as a change to the continuum."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import git
from gitops_fleet import change_node, fleet_repo, node, remove_cluster, rendered_template
from kube import build, by_kind

__all__ = ["fleet_repo", "rendered_template"]

NODE_AGENTS = "overlays/clusters/cluster-01/node-agents"
DESCRIPTIONS_CONFIGMAP = "node-system-descriptions-cluster-01"


def _descriptions_configmap(directory: Path) -> str:
    """Return the hashed name kustomize gives the node descriptions ConfigMap of ``directory``."""
    (configmap,) = [obj for obj in by_kind(build(directory), "ConfigMap") if obj["metadata"]["name"].startswith(DESCRIPTIONS_CONFIGMAP)]
    return configmap["metadata"]["name"]


def test_diff_without_changes_exits_0(fleet_repo: Path, invoke) -> None:
    result = invoke("diff", "--repo", str(fleet_repo))

    assert result.exit_code == 0, result.output
    assert result.stdout == "no changes: the outputs at HEAD equal a fresh render\n"


def test_markdown_names_node_cluster_and_restarting_agents(fleet_repo: Path, invoke) -> None:
    host = node("cluster-01", 1)
    old_configmap = _descriptions_configmap(fleet_repo / NODE_AGENTS)
    change_node(fleet_repo, host)

    result = invoke("diff", "--repo", str(fleet_repo), "--format", "markdown")

    assert result.exit_code == 1, result.output
    invoke("render", "--no-verify", "--no-commit", "--repo", str(fleet_repo))
    new_configmap = _descriptions_configmap(fleet_repo / NODE_AGENTS)
    assert old_configmap != new_configmap
    markdown = result.stdout
    assert f"- cluster cluster-01: node {host} changed\n" in markdown
    old_hash, new_hash = old_configmap.rsplit("-", 1)[1], new_configmap.rsplit("-", 1)[1]
    assert (
        "| DaemonSet `mlsysops-framework/mlsysops-node-agent-cluster-01` | cluster-01 | `mlsysops-node-agents-cluster-01` (wave 4) "
        f"| descriptions changed: ConfigMap {DESCRIPTIONS_CONFIGMAP}: hash {old_hash} → {new_hash} |"
    ) in markdown
    assert "| 4 | `mlsysops-node-agents-cluster-01` | karmada-apiserver | updated | 1 created, 1 updated, 1 pruned |" in markdown
    assert f"- ConfigMap `mlsysops-framework/{old_configmap}` from Application `mlsysops-node-agents-cluster-01`: replaced by {new_configmap}, deleted after the rest of the sync (PruneLast)\n" in markdown
    assert f"- M `{NODE_AGENTS}/descriptions/{host}.yaml`" in markdown
    assert "cluster-00" not in markdown
    assert "cluster-02" not in markdown
    assert "```mermaid" not in markdown


def test_json_lists_restart_prune_and_application(fleet_repo: Path, invoke) -> None:
    old_configmap = _descriptions_configmap(fleet_repo / NODE_AGENTS)
    change_node(fleet_repo, node("cluster-01", 0))

    result = invoke("diff", "--repo", str(fleet_repo), "--format", "json")

    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["changed"] is True
    assert report["clusters"] == {"added": [], "removed": [], "changed": ["cluster-01"]}
    assert report["hosts"] == [{"role": "node", "host": node("cluster-01", 0), "change": "changed", "cluster_id": "cluster-01", "previous_cluster_id": ""}]
    assert [app["name"] for app in report["applications"]] == ["mlsysops-node-agents-cluster-01"]
    (restart,) = report["restarts"]
    assert restart["workload"] == {"kind": "DaemonSet", "namespace": "mlsysops-framework", "name": "mlsysops-node-agent-cluster-01"}
    assert restart["cluster_id"] == "cluster-01"
    assert restart["configmaps"][0][0] == old_configmap
    (prune,) = report["prunes"]
    assert prune["object"]["name"] == old_configmap
    assert prune["replaced_by"] == restart["configmaps"][0][1]
    assert prune["last"] is True
    assert report["order_changed"] is False


def test_removed_cluster_shows_prunes_and_new_order(fleet_repo: Path, invoke) -> None:
    remove_cluster(fleet_repo, "cluster-02")

    result = invoke("diff", "--repo", str(fleet_repo), "--format", "json")
    markdown = invoke("diff", "--repo", str(fleet_repo), "--format", "markdown").stdout

    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["clusters"]["removed"] == ["cluster-02"]
    removed = {app["name"]: app["wave"] for app in report["applications"] if app["change"] == "removed"}
    assert removed == {"mlsysops-cluster-cluster-02": 3, "mlsysops-cluster-agent-cluster-02": 3, "mlsysops-node-agents-cluster-02": 4}
    pruned = {(prune["object"]["kind"], prune["object"]["name"]) for prune in report["prunes"] if prune["application_removed"]}
    assert ("DaemonSet", "mlsysops-node-agent-cluster-02") in pruned
    assert ("DaemonSet", "mlsysops-cluster-agent-cluster-02") in pruned
    assert ("Application", "mlsysops-node-agents-cluster-02") in pruned
    assert report["order_changed"] is True
    graph = markdown.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert "cluster cluster-01" in graph
    assert "cluster-02" not in graph


def test_settings_change_restarts_agents_for_new_image(fleet_repo: Path, invoke) -> None:
    (fleet_repo / "mlsysops-gitops.yaml").write_text("agents_tag: 0.2.0\n", encoding="utf-8")

    result = invoke("diff", "--repo", str(fleet_repo), "--format", "json")

    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["settings"] == {"changed": True, "names": ["agents_tag"]}
    restarted = {restart["workload"]["name"] for restart in report["restarts"] if restart["images"]}
    assert {"mlsysops-node-agent-cluster-00", "mlsysops-node-agent-cluster-01", "mlsysops-node-agent-cluster-02"} <= restarted
    assert all(new.endswith(":0.2.0") for restart in report["restarts"] for _, new in restart["images"])


def test_diff_against_earlier_commit(fleet_repo: Path, invoke) -> None:
    host = node("cluster-00", 1)
    change_node(fleet_repo, host)
    assert invoke("render", "--no-verify", "--repo", str(fleet_repo)).exit_code == 0

    at_head = invoke("diff", "--repo", str(fleet_repo))
    against_parent = invoke("diff", "--repo", str(fleet_repo), "--base", "HEAD~1")

    assert at_head.exit_code == 0, at_head.output
    assert against_parent.exit_code == 1, against_parent.output
    assert f"cluster cluster-00: node {host} changed" in against_parent.stdout
    assert git(fleet_repo, "status", "--porcelain") == ""


def test_unknown_base_is_an_error(fleet_repo: Path, invoke) -> None:
    result = invoke("diff", "--repo", str(fleet_repo), "--base", "no-such-branch")

    assert result.exit_code == 5
    assert "error: 'no-such-branch' names no commit" in result.stderr
