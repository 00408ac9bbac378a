"""Agent configuration and policy plugins: where they land, and what a change restarts."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from conftest import write_tree
from kube import build, by_kind, kustomize_argv

NODE = "MLSysOpsNode:\n  cluster_id: {cluster}\n  continuum_layer: edge\n  environment: {{}}\n  hardware: {{}}\n"
# Two member clusters, so that "reaches exactly its cluster" can fail.
FLEET = {
    "descriptions/continuum/hub.yaml": "MLSysOpsContinuum:\n  continuum_id: hub\n  clusters: [alpha, beta]\n",
    "descriptions/clusters/alpha-master.yaml": "MLSysOpsCluster:\n  cluster_id: alpha\n  nodes: [alpha-1, alpha-2]\n",
    "descriptions/clusters/beta-master.yaml": "MLSysOpsCluster:\n  cluster_id: beta\n  nodes: [beta-1]\n",
    "descriptions/nodes/alpha-1.yaml": NODE.format(cluster="alpha"),
    "descriptions/nodes/alpha-2.yaml": NODE.format(cluster="alpha"),
    "descriptions/nodes/beta-1.yaml": NODE.format(cluster="beta"),
}
NODE_DEFAULT = "continuum_layer: node\nmechanisms:\n  - fluidity_proxy\nmonitor_data_retention_time: 30\n"
ALPHA_1 = "continuum_layer: node\nmonitor_data_retention_time: 5\n"
CLUSTER_ALPHA = "continuum_layer: cluster\nmechanisms:\n  - fluidity\n"
CONTINUUM = "continuum_layer: continuum\npolicy_directory: /etc/mlsysops/policies\n"
POLICY = "def initialize():\n    return {'period': 10}\n"
FILES = {
    "descriptions/configurations/node/default.yaml": NODE_DEFAULT,
    "descriptions/configurations/node/alpha-1-config.yaml": ALPHA_1,
    "descriptions/configurations/cluster/alpha-master-config.yaml": CLUSTER_ALPHA,
    "descriptions/configurations/continuum/hub-config.yaml": CONTINUUM,
    "descriptions/policies/node/policy-demo.py": POLICY,
    "descriptions/policies/cluster/policy-placement.py": POLICY,
}
AGENT_OVERLAYS = (
    "overlays/management/continuum-agent",
    "overlays/clusters/alpha/cluster-agent",
    "overlays/clusters/alpha/node-agents",
    "overlays/clusters/beta/cluster-agent",
    "overlays/clusters/beta/node-agents",
)


@pytest.fixture
def fleet_repo(make_repo: Callable[..., Path], invoke: Callable[..., object]) -> Path:
    repo = make_repo(None, files={**FLEET, **FILES})
    _render(invoke, repo)
    return repo


def _render(invoke: Callable[..., object], repo: Path) -> None:
    # The tests build the overlays they read with kustomize, so render's own check is skipped.
    result = invoke("render", "--repo", str(repo), "--no-verify")
    assert result.exit_code == 0, result.output


def _daemonset_text(repo: Path, overlay: str) -> str:
    """Return the DaemonSet exactly as kustomize prints it, pod template included."""
    output = subprocess.run([*kustomize_argv(), str(repo / overlay)], capture_output=True, text=True, check=True).stdout
    (document,) = [part for part in output.split("\n---\n") if "\nkind: DaemonSet\n" in f"\n{part}"]
    return document


def _configmap(repo: Path, overlay: str, prefix: str) -> dict:
    (configmap,) = [item for item in by_kind(build(repo / overlay), "ConfigMap") if item["metadata"]["name"].startswith(prefix)]
    return configmap


def test_node_configurations_reach_exactly_their_cluster(fleet_repo: Path) -> None:
    alpha = _configmap(fleet_repo, "overlays/clusters/alpha/node-agents", "node-agents-config-alpha-")
    assert alpha["data"] == {"alpha-1-config.yaml": ALPHA_1, "alpha-2-config.yaml": NODE_DEFAULT}
    beta = _configmap(fleet_repo, "overlays/clusters/beta/node-agents", "node-agents-config-beta-")
    assert beta["data"] == {"beta-1-config.yaml": NODE_DEFAULT}


def test_cluster_and_continuum_configurations_reach_their_host(fleet_repo: Path) -> None:
    alpha = _configmap(fleet_repo, "overlays/clusters/alpha/cluster-agent", "cluster-agents-config-alpha-")
    assert alpha["data"] == {"alpha-master-config.yaml": CLUSTER_ALPHA}
    beta = _configmap(fleet_repo, "overlays/clusters/beta/cluster-agent", "cluster-agents-config-beta-")
    assert "data" not in beta
    continuum = _configmap(fleet_repo, "overlays/management/continuum-agent", "continuum-agents-config-")
    assert continuum["data"] == {"hub-config.yaml": CONTINUUM}


def test_policies_reach_every_agent_of_their_layer_only(fleet_repo: Path) -> None:
    for cluster in ("alpha", "beta"):
        node = _configmap(fleet_repo, f"overlays/clusters/{cluster}/node-agents", "node-agents-policies")
        assert node["metadata"]["name"] == f"node-agents-policies-{cluster}"
        assert node["data"] == {"policy-demo.py": POLICY}
        assert node["metadata"]["labels"] == {"mlsysops.eu/cluster": cluster}
        cluster_policies = _configmap(fleet_repo, f"overlays/clusters/{cluster}/cluster-agent", "cluster-agents-policies")
        assert cluster_policies["data"] == {"policy-placement.py": POLICY}
    continuum = _configmap(fleet_repo, "overlays/management/continuum-agent", "continuum-agents-policies")
    assert "data" not in continuum


def test_policy_change_restarts_no_agent(fleet_repo: Path, invoke: Callable[..., object]) -> None:
    before = {overlay: _daemonset_text(fleet_repo, overlay) for overlay in AGENT_OVERLAYS}
    policies_before = _configmap(fleet_repo, "overlays/clusters/alpha/node-agents", "node-agents-policies")
    changed = POLICY.replace("10", "30")
    write_tree(fleet_repo, {
        "descriptions/policies/node/policy-demo.py": changed,
        "descriptions/policies/cluster/policy-placement.py": changed,
        "descriptions/policies/continuum/policy-new.py": changed,
    })
    _render(invoke, fleet_repo)

    after = {overlay: _daemonset_text(fleet_repo, overlay) for overlay in AGENT_OVERLAYS}
    assert after == before
    policies_after = _configmap(fleet_repo, "overlays/clusters/alpha/node-agents", "node-agents-policies")
    assert policies_after["metadata"]["name"] == policies_before["metadata"]["name"] == "node-agents-policies-alpha"
    assert policies_after["data"] == {"policy-demo.py": changed} != policies_before["data"]


def test_configuration_change_rolls_the_agents_that_read_it(fleet_repo: Path, invoke: Callable[..., object]) -> None:
    before = {overlay: _daemonset_text(fleet_repo, overlay) for overlay in AGENT_OVERLAYS}
    write_tree(fleet_repo, {"descriptions/configurations/node/default.yaml": NODE_DEFAULT.replace("30", "60")})
    _render(invoke, fleet_repo)

    after = {overlay: _daemonset_text(fleet_repo, overlay) for overlay in AGENT_OVERLAYS}
    changed = sorted(overlay for overlay in AGENT_OVERLAYS if after[overlay] != before[overlay])
    # alpha-2 and beta-1 read the default; cluster and continuum agents do not.
    assert changed == ["overlays/clusters/alpha/node-agents", "overlays/clusters/beta/node-agents"]
    template = yaml.safe_load(after["overlays/clusters/beta/node-agents"])["spec"]["template"]["spec"]
    (volume,) = [volume for volume in template["volumes"] if volume["name"] == "config"]
    assert volume["configMap"]["name"] == _configmap(fleet_repo, "overlays/clusters/beta/node-agents", "node-agents-config-beta-")["metadata"]["name"]


def test_no_files_gives_empty_configmaps(make_repo: Callable[..., Path], invoke: Callable[..., object]) -> None:
    repo = make_repo(None, files=FLEET)
    _render(invoke, repo)
    for overlay in AGENT_OVERLAYS:
        for configmap in by_kind(build(repo / overlay), "ConfigMap"):
            if "-agents-" in configmap["metadata"]["name"]:
                assert "data" not in configmap, configmap["metadata"]["name"]
    assert not list(repo.glob("overlays/**/config/*"))
    assert not list(repo.glob("overlays/**/policies/*"))


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"descriptions/configurations/node/alpha-1-config.yaml": "continuum_layer: node\nbehaviours: [\n"}, ("descriptions/configurations/node/alpha-1-config.yaml:3:", "invalid YAML")),
        ({"descriptions/configurations/node/alpha-1-config.yaml": "monitor_data_retention_time: 5\ncontinuum_layer: cluster\n"}, ("descriptions/configurations/node/alpha-1-config.yaml:2:", "Configuration.continuum_layer: is 'cluster' but the file sits in the node folder; write 'node' or move the file")),
        ({"descriptions/configurations/node/beta-2-config.yaml": "continuum_layer: node\n"}, "host 'beta-2' runs no node agent, so no agent reads this file; did you mean beta-1-config.yaml?"),
        ({"descriptions/configurations/node/alpha-1.yaml": "continuum_layer: node\n"}, "file name 'alpha-1.yaml' names no host"),
        ({"descriptions/configurations/nodes/default.yaml": "continuum_layer: node\n"}, "descriptions/configurations/nodes: unknown layer 'nodes'"),
        ({"descriptions/policies/node/policy-bad.py": "def initialize(:\n    pass\n"}, "descriptions/policies/node/policy-bad.py:1:16: invalid Python: "),
        ({"descriptions/configurations/cluster/default.yaml": "- a list\n"}, "expected a mapping of configuration keys, found a list"),
    ],
)
def test_bad_agent_files_are_refused(make_repo: Callable[..., Path], invoke: Callable[..., object], files: dict[str, str], expected: str | tuple[str, ...]) -> None:
    repo = make_repo(None, files={**FLEET, **files})
    result = invoke("render", "--repo", str(repo))
    assert result.exit_code == 1
    for fragment in (expected,) if isinstance(expected, str) else expected:
        assert fragment in result.output, result.output
    assert not (repo / "overlays").exists()


def test_unknown_configuration_key_warns_with_location(make_repo: Callable[..., Path], invoke: Callable[..., object]) -> None:
    repo = make_repo(None, files={**FLEET, "descriptions/configurations/node/default.yaml": "continuum_layer: node\nbehaviors: {}\n"})
    result = invoke("validate", "--repo", str(repo))
    assert result.exit_code == 0, result.output
    assert "descriptions/configurations/node/default.yaml:2:" in result.output
    assert "Configuration.behaviors: warning: unknown key; did you mean 'behaviours'?" in result.output, result.output


def test_unknown_configuration_key_strict_is_error(make_repo: Callable[..., Path], invoke: Callable[..., object]) -> None:
    repo = make_repo(None, files={**FLEET, "descriptions/configurations/node/default.yaml": "continuum_layer: node\nbehaviors: {}\n"})
    result = invoke("render", "--repo", str(repo), "--strict")
    assert result.exit_code == 1
    assert "Configuration.behaviors: unknown key; did you mean 'behaviours'?" in result.output
