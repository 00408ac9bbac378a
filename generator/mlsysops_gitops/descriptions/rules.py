"""Rules that span several description files.

A file's stem is the host name of the machine whose agent reads it: agents look up
``<host name>.yaml``. ``cluster_id`` is the Karmada member cluster's name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mlsysops_gitops import layout
from mlsysops_gitops.descriptions.models import Cluster, Continuum, Node
from mlsysops_gitops.errors import Problem

if TYPE_CHECKING:
    from mlsysops_gitops.descriptions.reader import DescriptionFile, Fleet

# Host names become ConfigMap keys and Kubernetes node names: RFC 1123 subdomains.
MAX_HOST_LENGTH = 63
# Cluster ids become label values and suffixes of Application and DaemonSet names,
# which must stay within 63 characters: "mlsysops-node-agents-" plus the id.
MAX_CLUSTER_ID_LENGTH = 40
_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_HOST = re.compile(rf"^{_LABEL}(\.{_LABEL})*$")
_CLUSTER_ID = re.compile(rf"^{_LABEL}$")


def check_duplicate_hosts(repo: Path, folders: Mapping[str, str]) -> list[Problem]:
    """Report two files for one host in a folder, such as ``x.yaml`` beside ``x.yml``."""
    from mlsysops_gitops.descriptions.reader import list_description_files

    problems = []
    for folder in folders:
        seen: dict[str, str] = {}
        for path in list_description_files(repo, folder):
            stem = path.name.rsplit(".", 1)[0]
            if stem in seen:
                problems.append(Problem(f"{folder}/{path.name}", message=f"two files describe host {stem!r}: {seen[stem]} and {path.name}; keep one"))
            else:
                seen[stem] = path.name
    return problems


def name_problem(value: str, *, what: str, pattern: re.Pattern[str], limit: int) -> str | None:
    """Return why ``value`` is not a valid name, or None."""
    if len(value) > limit:
        return f"{what} {value!r} is {len(value)} characters long; the maximum is {limit}"
    if not pattern.match(value):
        suggestion = re.sub(r"[^a-z0-9.-]+", "-", value.lower()).strip("-.")
        hint = f"; did you mean {suggestion!r}?" if suggestion and pattern.match(suggestion) else ""
        return f"{what} {value!r} is not a lower-case RFC 1123 name (a-z, 0-9, '-', starting and ending alphanumeric){hint}"
    return None


def check_fleet(
    continuums: Sequence[DescriptionFile],
    clusters: Sequence[DescriptionFile],
    nodes: Sequence[DescriptionFile],
) -> tuple[list[Problem], Fleet | None]:
    """Check the rules across files and build the fleet when they hold."""
    from mlsysops_gitops.descriptions.reader import Fleet

    problems: list[Problem] = []
    for described in (*continuums, *clusters, *nodes):
        problems += _check_host(described)

    if len(continuums) != 1:
        found = ", ".join(file.path for file in continuums) or "none"
        problems.append(Problem(layout.CONTINUUM_DIR, message=f"expected exactly one continuum description, found {len(continuums)} ({found})"))
        return problems, None
    continuum = continuums[0]
    continuum_spec = continuum.spec
    assert isinstance(continuum_spec, Continuum)

    by_cluster_id: dict[str, DescriptionFile] = {}
    for described in clusters:
        spec = described.spec
        assert isinstance(spec, Cluster)
        problem = name_problem(spec.cluster_id, what="cluster_id", pattern=_CLUSTER_ID, limit=MAX_CLUSTER_ID_LENGTH)
        if problem:
            problems.append(described.problem("cluster_id", problem))
        if spec.cluster_id in by_cluster_id:
            problems.append(described.problem("cluster_id", f"cluster_id {spec.cluster_id!r} is also used by {by_cluster_id[spec.cluster_id].path}"))
        else:
            by_cluster_id[spec.cluster_id] = described

    listed = set(continuum_spec.clusters)
    for index, cluster_id in enumerate(continuum_spec.clusters):
        if cluster_id not in by_cluster_id:
            problems.append(continuum.problem(f"clusters.{index}", f"cluster {cluster_id!r} has no description in {layout.CLUSTERS_DIR}/ (no file there has this cluster_id)"))
    for cluster_id, described in sorted(by_cluster_id.items()):
        if cluster_id not in listed:
            problems.append(described.problem("cluster_id", f"cluster {cluster_id!r} is not listed in {continuum.path} clusters"))

    nodes_by_host = {described.host: described for described in nodes}
    owner: dict[str, str] = {}
    for cluster_id, described in sorted(by_cluster_id.items()):
        spec = described.spec
        assert isinstance(spec, Cluster)
        for index, host in enumerate(spec.nodes):
            if host in owner:
                problems.append(described.problem(f"nodes.{index}", f"node {host!r} is already listed by cluster {owner[host]!r}; a node belongs to exactly one cluster"))
                continue
            owner[host] = cluster_id
            if host not in nodes_by_host:
                problems.append(described.problem(f"nodes.{index}", f"node {host!r} has no description; expected {layout.NODES_DIR}/{host}.yaml"))

    for host, described in sorted(nodes_by_host.items()):
        spec = described.spec
        assert isinstance(spec, Node)
        if host not in owner:
            problems.append(described.problem("", f"node {host!r} is not listed in the nodes of any cluster"))
        elif spec.cluster_id is not None and spec.cluster_id != owner[host]:
            problems.append(described.problem("cluster_id", f"cluster_id is {spec.cluster_id!r} but node {host!r} is listed by cluster {owner[host]!r}"))

    if any(problem.severity == "error" for problem in problems):
        return problems, None
    fleet = Fleet(continuum=continuum, clusters=dict(sorted(by_cluster_id.items())), nodes=dict(sorted(nodes_by_host.items())))
    return problems, fleet


def _check_host(described: DescriptionFile) -> list[Problem]:
    problems = []
    problem = name_problem(described.host, what="host name (the file name)", pattern=_HOST, limit=MAX_HOST_LENGTH)
    if problem:
        problems.append(Problem(described.path, message=problem))
    name = getattr(described.spec, "name", None)
    if name is not None and name != described.host:
        problems.append(described.problem("name", f"name {name!r} differs from the file name; agents look up their description as <host name>.yaml, so rename the file to {name}.yaml or set name to {described.host!r}"))
    return problems
