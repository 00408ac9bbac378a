"""Render a fleet into a folder and read it back the way Argo CD and Karmada would.

What a fleet should receive is read from the description files with plain YAML, not
through the generator, so the checks do not share the code they check.
"""

from __future__ import annotations

import dataclasses
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from argocd_model import App, load_tree
from conftest import HOST_IP, ORIGIN, UPSTREAM_DESCRIPTIONS
from fleets import write_fleet
from kube import build, kustomization_dirs

from mlsysops_gitops.commands.render import RenderOptions, run_render

KARMADA = "karmada-apiserver"
MANAGEMENT = "in-cluster"
NAMESPACE = "mlsysops-framework"
CLUSTER_LABEL = "mlsysops.eu/cluster"
DESCRIPTION_PATH = "/etc/mlsysops/descriptions"

# Fleets every topology test runs on: the upstream example, a small generated fleet,
# and one cluster of 2,000 nodes with descriptions of 1 to 4 KB.
FLEETS: dict[str, dict[str, Any] | None] = {
    "upstream": None,
    "3x4": {"clusters": 3, "nodes_per_cluster": 4, "node_bytes": (1024, 4096)},
    "1x2000": {"clusters": 1, "nodes_per_cluster": 2000, "node_bytes": (1024, 4096)},
}


@dataclasses.dataclass(frozen=True)
class ExpectedCluster:
    """What one member cluster must receive: its cluster description and its nodes' descriptions."""

    cluster_id: str
    host: str
    cluster_text: str
    node_texts: dict[str, str]


@dataclasses.dataclass
class Rendered:
    """A rendered repository, every kustomization built, and the Application tree."""

    repo: Path
    continuum_clusters: list[str]
    expected: dict[str, ExpectedCluster]
    built: dict[str, list[dict[str, Any]]]
    tree: App

    def applications(self) -> list[App]:
        return self.tree.walk()

    def deployed(self, destination: str) -> list[dict[str, Any]]:
        """Return every object the leaf Applications apply to ``destination``."""
        objects = []
        for app in self.applications():
            if not app.is_app_of_apps and app.destination == destination:
                objects += self.built[app.path]
        return objects


def render_fleet(root: Path, fleet: str) -> Rendered:
    """Write the named fleet's descriptions under ``root``, render them and build everything."""
    root.mkdir(parents=True, exist_ok=True)
    parameters = FLEETS[fleet]
    if parameters is None:
        shutil.copytree(UPSTREAM_DESCRIPTIONS, root / "descriptions")
    else:
        write_fleet(root, **parameters)
    overrides = {"karmada_host_ip": HOST_IP, "repo_url": ORIGIN, "target_revision": "main"}
    run_render(RenderOptions(repo=root, overrides=overrides, commit=False, verify=False))
    return read_rendered(root)


def read_rendered(repo: Path) -> Rendered:
    """Build every kustomization of ``repo`` with the real kustomize and read the descriptions."""
    directories = kustomization_dirs(repo)
    with ThreadPoolExecutor(max_workers=8) as pool:
        outputs = list(pool.map(build, directories))
    built = {directory.relative_to(repo).as_posix(): objects for directory, objects in zip(directories, outputs)}
    continuum, expected = _expected(repo)
    return Rendered(repo, continuum, expected, built, load_tree(repo))


def _load(path: Path) -> tuple[str, dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    (document,) = yaml.safe_load(text).values()
    return text, document


def _expected(repo: Path) -> tuple[list[str], dict[str, ExpectedCluster]]:
    descriptions = repo / "descriptions"
    (continuum_file,) = sorted((descriptions / "continuum").glob("*.yaml"))
    _, continuum = _load(continuum_file)
    expected = {}
    for path in sorted((descriptions / "clusters").glob("*.yaml")):
        text, cluster = _load(path)
        nodes = {host: (descriptions / "nodes" / f"{host}.yaml").read_text(encoding="utf-8") for host in cluster["nodes"]}
        expected[cluster["cluster_id"]] = ExpectedCluster(cluster["cluster_id"], path.stem, text, nodes)
    return list(continuum["clusters"]), expected
