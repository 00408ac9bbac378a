"""Turn an Ansible inventory of an MLSysOps testbed into system descriptions.

The inventory gives the part each machine plays, and the descriptions need little more:

- the host labelled ``mlsysops.eu/continuumLayer: continuum`` (the management cluster's
  host) becomes the continuum description;
- each group that holds a host labelled ``cluster`` (its master) and hosts labelled
  ``node`` (its workers) becomes one cluster, named by the master's
  ``k3s_cluster_name``, described in a file named after the master host;
- each worker becomes a node description.

Only names and the layer structure are taken over: connection settings, keys and
addresses stay in the inventory.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from mlsysops_gitops import layout
from mlsysops_gitops.descriptions import rules
from mlsysops_gitops.descriptions.yamlfile import Document, read_document
from mlsysops_gitops.errors import InputError, Problem
from mlsysops_gitops.render.manifests import to_yaml

HEADER = (
    "# Written by mlsysops-gitops descriptions from-inventory from {source}; yours to edit now.\n"
    "# An inventory does not say a node's continuum_layer (written as edge) or hardware\n"
    "# (left empty): correct both, and add permitted_actions, before the agents rely on them.\n"
)
# The layer the framework's own testbed gives its worker nodes.
DEFAULT_NODE_LAYER = "edge"
# Hosts without a layer label are placed by the group names of the framework's inventories.
_GROUP_LAYERS = {"management_cluster": "continuum", "master_nodes": "cluster", "worker_nodes": "node"}
# Ansible Vault values are secrets, and none of them is copied: they are dropped unread.
_VAULT_TAGS = frozenset(("!vault", "!vault-encrypted"))


@dataclasses.dataclass
class Host:
    """One inventory host: its variables and where it was declared."""

    name: str
    top_group: str
    groups: list[str]
    variables: dict[str, Any]
    line: int

    @property
    def layer(self) -> str | None:
        labels = self.variables.get("labels")
        if isinstance(labels, dict) and labels.get(layout.LAYER_LABEL) is not None:
            return str(labels[layout.LAYER_LABEL])
        for group in reversed(self.groups):
            if group in _GROUP_LAYERS:
                return _GROUP_LAYERS[group]
        return None

    @property
    def cluster_name(self) -> str | None:
        value = self.variables.get("k3s_cluster_name")
        return None if value is None else str(value)


def descriptions_from_inventory(source: str, raw: bytes) -> dict[str, str]:
    """Return the description files, by path under ``descriptions/``, that ``raw`` implies.

    Raises:
        InputError: naming the inventory line of every problem.
    """
    # Ansible reads inventories with PyYAML, so YAML 1.1 numbers such as mode: 0644 mean one thing there.
    document, problems = read_document(source, raw, drop_tags=_VAULT_TAGS, yaml11_numbers=True)
    if document is None:
        raise InputError(problems)
    hosts = _hosts(document, problems)
    if problems:
        raise InputError(problems)
    files = _describe(document, hosts, problems)
    if problems:
        raise InputError(problems)
    header = HEADER.format(source=source.rsplit("/", 1)[-1])
    return {path: header + to_yaml(content) for path, content in sorted(files.items())}


def _hosts(document: Document, problems: list[Problem]) -> list[Host]:
    data = document.data
    if not isinstance(data, dict) or not isinstance(data.get("all"), dict):
        problems.append(Problem(document.path, 1, 1, message="expected an Ansible YAML inventory with a top-level 'all' group"))
        return []
    found: dict[str, Host] = {}
    children = data["all"].get("children") or {}
    if not isinstance(children, dict):
        line, column = document.locate(("all", "children"))
        problems.append(Problem(document.path, line, column, message="'children' must map group names to groups"))
        return []
    _walk(document, data["all"], ("all",), [], None, {}, found, problems)
    return list(found.values())


def _walk(document: Document, group: Any, loc: tuple[Any, ...], names: list[str], top: str | None, inherited: dict[str, Any], found: dict[str, Host], problems: list[Problem]) -> None:
    if group is None:
        return
    if not isinstance(group, dict):
        line, column = document.locate(loc)
        problems.append(Problem(document.path, line, column, message=f"group {loc[-1]!r} must be a mapping with hosts, children or vars"))
        return
    for key, shape in (("vars", "variable names to values"), ("hosts", "host names to their variables (hosts: {a: {}, b: {}}, not a list)"), ("children", "group names to groups")):
        if group.get(key) is not None and not isinstance(group[key], dict):
            line, column = document.locate((*loc, key))
            problems.append(Problem(document.path, line, column, message=f"'{key}' of group {loc[-1]!r} must map {shape}, found a {type(group[key]).__name__}"))
            return
    variables = {**inherited, **(group.get("vars") or {})}
    for name, host_vars in (group.get("hosts") or {}).items():
        line, column = document.locate((*loc, "hosts", name))
        if host_vars is not None and not isinstance(host_vars, dict):
            problems.append(Problem(document.path, line, column, message=f"host {name!r} must map variable names to values, found a {type(host_vars).__name__}"))
            continue
        merged = {**variables, **(host_vars or {})}
        if name in found:
            found[name].variables.update(merged)
            continue
        found[str(name)] = Host(str(name), top or str(name), names, merged, line)
    for child, value in (group.get("children") or {}).items():
        _walk(document, value, (*loc, "children", child), [*names, str(child)], top or str(child), variables, found, problems)


def _node(host: Host, cluster_id: str) -> dict[str, Any]:
    """Describe a worker from its inventory entry; the CRD requires the last three fields."""
    labels = host.variables.get("labels")
    is_vm = isinstance(labels, dict) and labels.get("is_vm") is True
    return {
        "name": host.name,
        "cluster_id": cluster_id,
        "continuum_layer": DEFAULT_NODE_LAYER,
        "environment": {"node_type": "virtualized"} if is_vm else {},
        "hardware": {},
    }


def _describe(document: Document, hosts: list[Host], problems: list[Problem]) -> dict[str, dict[str, Any]]:
    def problem(host: Host | None, message: str) -> None:
        problems.append(Problem(document.path, host.line if host else 1, 1 if host else 1, message=message))

    by_layer: dict[str, list[Host]] = {"continuum": [], "cluster": [], "node": []}
    for host in hosts:
        layer = host.layer
        # The host name becomes a file name: report a bad one here, at its inventory line.
        name_problem = rules.name_problem(host.name, what="host name", pattern=rules.HOST_NAME, limit=rules.MAX_HOST_LENGTH)
        if name_problem is not None and layer in by_layer:
            problem(host, name_problem)
            continue
        if layer not in by_layer:
            problem(host, f"host {host.name!r} has no usable {layout.LAYER_LABEL} label (found {layer!r}); label it continuum, cluster or node")
            continue
        by_layer[layer].append(host)
    if len(by_layer["continuum"]) != 1:
        names = ", ".join(host.name for host in by_layer["continuum"]) or "none"
        problem(by_layer["continuum"][1] if len(by_layer["continuum"]) > 1 else None, f"expected exactly one host labelled {layout.LAYER_LABEL}: continuum (the management cluster's host), found {names}")
        return {}

    files: dict[str, dict[str, Any]] = {}
    cluster_ids: list[str] = []
    for master in by_layer["cluster"]:
        cluster_id = master.cluster_name or master.top_group
        workers = [host for host in by_layer["node"] if host.top_group == master.top_group]
        others = [host for host in by_layer["cluster"] if host.top_group == master.top_group and host is not master]
        if others:
            problem(others[0], f"group {master.top_group!r} has two masters, {master.name!r} and {others[0].name!r}; a cluster has one cluster agent host")
            continue
        if cluster_id in cluster_ids:
            problem(master, f"k3s_cluster_name {cluster_id!r} is used by two clusters; give each cluster its own name")
            continue
        cluster_ids.append(cluster_id)
        files[f"clusters/{master.name}.yaml"] = {"MLSysOpsCluster": {"name": master.name, "cluster_id": cluster_id, "nodes": [host.name for host in workers]}}
        for worker in workers:
            if worker.cluster_name is not None and worker.cluster_name != cluster_id:
                problem(worker, f"k3s_cluster_name is {worker.cluster_name!r} but host {worker.name!r} sits in the group of cluster {cluster_id!r}")
            files[f"nodes/{worker.name}.yaml"] = {"MLSysOpsNode": _node(worker, cluster_id)}
    masters = {master.top_group for master in by_layer["cluster"]}
    for worker in by_layer["node"]:
        if worker.top_group not in masters:
            problem(worker, f"node {worker.name!r} is in group {worker.top_group!r}, which has no host labelled cluster; put it in its cluster's group")

    continuum = by_layer["continuum"][0]
    continuum_id = continuum.cluster_name or continuum.name
    files[f"continuum/{continuum.name}.yaml"] = {"MLSysOpsContinuum": {"name": continuum.name, "continuum_id": continuum_id, "clusters": cluster_ids}}
    return files


__all__ = ["descriptions_from_inventory"]
