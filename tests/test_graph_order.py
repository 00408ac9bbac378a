"""``mlsysops-gitops graph``: the bootstrap order of the rendered Applications as a Mermaid flowchart."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import HOST_IP
from gitops_fleet import CLUSTERS, fleet_repo, rendered_template
from mlsysops_gitops.commands.diff import parse_applications
from mlsysops_gitops.commands.render import load_inputs, resolve_source
from mlsysops_gitops.render.argocd import AppSpec, applications
from mlsysops_gitops.render.pipeline import render_tree
from mlsysops_gitops.repository import git

__all__ = ["fleet_repo", "rendered_template"]


def _specs(repo: Path):
    fleet, settings, _ = load_inputs(repo, {"karmada_host_ip": HOST_IP})
    return fleet, resolve_source(settings, git.open_repo(repo))


def _blocks(chart: str) -> dict[str, list[str]]:
    """Return the lines directly inside each subgraph, by the subgraph's title."""
    blocks: dict[str, list[str]] = {}
    stack: list[str] = []
    for line in chart.splitlines()[1:]:
        opened = re.fullmatch(r'\s*subgraph \w+\["(.+)"\]', line)
        if opened:
            stack.append(opened[1])
            blocks[opened[1]] = []
        elif line.strip() == "end":
            stack.pop()
        elif stack:
            blocks[stack[-1]].append(line.strip())
    return blocks


def test_graph_draws_waves_clusters_and_destinations(fleet_repo: Path, invoke) -> None:
    result = invoke("graph", "--repo", str(fleet_repo))

    assert result.exit_code == 0, result.output
    chart = result.stdout
    assert chart.startswith("flowchart TD\n")
    blocks = _blocks(chart)
    assert list(blocks) == ["wave 0", "wave 1", "wave 2", "wave 3", *(f"cluster {cluster_id}" for cluster_id in CLUSTERS)]
    assert blocks["wave 0"] == ['app0["mlsysops-framework<br/>to in-cluster"]', 'app1["mlsysops-karmada<br/>to karmada-apiserver"]']
    assert blocks["wave 1"] == ['app2["mlsysops-services<br/>to in-cluster"]']
    assert blocks["wave 2"] == ['app3["mlsysops-continuum-agent<br/>to in-cluster"]']
    assert blocks["wave 3"] == []
    agent, nodes = 'app6["mlsysops-cluster-agent-cluster-01<br/>wave 3, to karmada-apiserver"]', 'app7["mlsysops-node-agents-cluster-01<br/>wave 4, to karmada-apiserver"]'
    assert blocks["cluster cluster-01"] == [agent, nodes, "app6 --> app7"]
    assert chart.endswith("  root --> wave0\n  wave0 --> wave1\n  wave1 --> wave2\n  wave2 --> wave3\n")


def test_graph_markdown_is_fenced(fleet_repo: Path, invoke) -> None:
    result = invoke("graph", "--repo", str(fleet_repo), "--format", "markdown")

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("```mermaid\nflowchart TD\n")
    assert result.stdout.endswith("```\n")


def test_graph_names_every_application(fleet_repo: Path, invoke) -> None:
    fleet, settings = _specs(fleet_repo)
    chart = invoke("graph", "--repo", str(fleet_repo)).stdout

    for spec in applications(fleet, settings):
        assert chart.count(f'["{spec.name}<br/>') == 1, spec.name


def test_rendered_manifests_give_the_same_order(fleet_repo: Path) -> None:
    fleet, settings = _specs(fleet_repo)
    parsed = parse_applications(render_tree(fleet, settings))

    leaves = [app.spec() for app in parsed.values() if not app.path.startswith("argocd/")]

    assert sorted(map(_key, leaves)) == sorted(map(_key, applications(fleet, settings)))


def _key(spec: AppSpec) -> tuple[str, str, str, int, str | None]:
    return (spec.name, spec.path, spec.destination, spec.wave, spec.cluster_id)
