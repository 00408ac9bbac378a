"""Rules that span several description files.

A file's stem is the host name of the machine whose agent reads it: agents look up
``<host name>.yaml``. ``cluster_id`` is the Karmada member cluster's name. The continuum
lists every cluster_id; each cluster lists its nodes' host names; each node belongs to
exactly one cluster.

The rules also run over files that failed validation, using what can still be read from
them, so that one run reports every problem. A rule that depends on an unreadable value
is skipped, because its error would only follow from the file's own.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from mlsysops_gitops import layout
from mlsysops_gitops.descriptions.yamlfile import Document, Loc, field_path
from mlsysops_gitops.errors import Problem

if TYPE_CHECKING:
    from mlsysops_gitops.descriptions.reader import DescriptionFile

CONTINUUM, CLUSTER, NODE = "MLSysOpsContinuum", "MLSysOpsCluster", "MLSysOpsNode"

# Host names become Kubernetes node names, the kubernetes.io/hostname label value and
# ConfigMap keys: RFC 1123 subdomains, at most 63 characters as a label value.
MAX_HOST_LENGTH = 63
# Cluster ids become a label value, a kustomize name suffix and part of Argo CD
# Application names, which are also label values (app.kubernetes.io/instance) and so
# at most 63 characters: "mlsysops-cluster-agent-" (23 characters) plus the id.
MAX_CLUSTER_ID_LENGTH = 40
# Other ids are label-sized: they may become label values in the agents' own objects.
MAX_ID_LENGTH = 63
_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
HOST_NAME = re.compile(rf"^{_LABEL}(\.{_LABEL})*$")
LABEL_NAME = re.compile(rf"^{_LABEL}$")
# A description larger than this fits no ConfigMap once names, labels and annotations
# are added. Validation rejects such a file, so the failure does not wait for the sync.
MAX_DESCRIPTION_BYTES = 1024 * 1024 - 64 * 1024


@dataclasses.dataclass(frozen=True)
class Outline:
    """Summary of one file, valid or not, for the cross-file rules.

    ``cluster_id`` and ``members`` (a continuum's clusters, a cluster's nodes) are None
    when the file does not give them in a readable form.
    """

    kind: str
    host: str
    path: str
    document: Document | None = None
    described: DescriptionFile | None = None
    raw: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def cluster_id(self) -> str | None:
        value = self.raw.get("cluster_id")
        return value if isinstance(value, str) else None

    @property
    def members(self) -> list[str] | None:
        value = self.raw.get("clusters" if self.kind == CONTINUUM else "nodes")
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return value
        return None

    def problem(self, loc: Loc, message: str) -> Problem:
        """Build an error located at ``loc`` inside the file's top-level key."""
        line, column = self.document.locate((self.kind, *loc)) if self.document else (1, 1)
        return Problem(self.path, line, column, self.kind, field_path(loc), message)


def name_problem(value: str, *, what: str, pattern: re.Pattern[str], limit: int, file_suffix: str = "") -> str | None:
    """Return why ``value`` is not a valid name, with a suggestion when one is clear, or None.

    With ``file_suffix`` the name is a file's stem, and the fix offered is a rename.
    """
    if pattern.match(value) and len(value) <= limit:
        return None
    # Accented letters lose their accents (édge becomes edge) before other characters become '-'.
    ascii_value = unicodedata.normalize("NFKD", value.casefold()).encode("ascii", "ignore").decode("ascii")
    suggestion = re.sub(r"[^a-z0-9.-]+" if pattern is HOST_NAME else r"[^a-z0-9-]+", "-", ascii_value)
    suggestion = re.sub(r"-{2,}", "-", suggestion).strip("-.")
    usable = suggestion != value and bool(pattern.match(suggestion)) and len(suggestion) <= limit
    if file_suffix:
        hint = f"; rename the file to {suggestion}{file_suffix}" if usable else "; rename the file"
    else:
        hint = f"; did you mean {suggestion!r}?" if usable else ""
    if len(value) > limit:
        return f"{what} {value!r} is {len(value)} characters long; the maximum is {limit}{hint}"
    kind = "RFC 1123 name (a-z, 0-9, '-' and '.')" if pattern is HOST_NAME else "RFC 1123 label (a-z, 0-9 and '-')"
    return f"{what} {value!r} is not a lower-case {kind} starting and ending with a letter or digit{hint}"


def size_problem(path: str, kind: str, text: str) -> Problem | None:
    """Return the problem with a description too large for the ConfigMap that ships it, or None."""
    size = len(text.encode("utf-8"))
    if size <= MAX_DESCRIPTION_BYTES:
        return None
    message = f"description is {size} bytes; a ConfigMap holds at most 1 MiB, so keep each description under {MAX_DESCRIPTION_BYTES} bytes"
    return Problem(path, kind=kind, message=message)


def check_fleet(outlines: Sequence[Outline]) -> list[Problem]:
    """Check every rule across files; return the problems."""
    continuums = [outline for outline in outlines if outline.kind == CONTINUUM]
    clusters = [outline for outline in outlines if outline.kind == CLUSTER]
    nodes = [outline for outline in outlines if outline.kind == NODE]

    problems: list[Problem] = []
    for outline in outlines:
        problems += _check_names(outline)
    problems += _check_continuum_count(continuums)
    continuum = continuums[0] if len(continuums) == 1 else None
    problems += _check_clusters(continuum, clusters)
    problems += _check_nodes(clusters, nodes)
    return problems


def _check_names(outline: Outline) -> list[Problem]:
    problems = []
    too_large = size_problem(outline.path, outline.kind, outline.document.text) if outline.document else None
    if too_large is not None:
        problems.append(too_large)
    suffix = "." + outline.path.rsplit(".", 1)[-1]
    host_problem = name_problem(outline.host, what="host name (the file name)", pattern=HOST_NAME, limit=MAX_HOST_LENGTH, file_suffix=suffix)
    if host_problem:
        problems.append(Problem(outline.path, 1, 1, outline.kind, "", host_problem))
    name = outline.raw.get("name")
    if isinstance(name, str) and name != outline.host:
        problems.append(outline.problem(("name",), f"name {name!r} differs from the file name; agents look up their description as <host name>.yaml, so rename the file to {name}.yaml or set name to {outline.host!r}"))

    ids = {"continuum_id": MAX_ID_LENGTH, "datacenter_id": MAX_ID_LENGTH}
    if outline.kind == CLUSTER:
        ids["cluster_id"] = MAX_CLUSTER_ID_LENGTH
    for field, limit in ids.items():
        value = outline.raw.get(field)
        if isinstance(value, str):
            problem = name_problem(value, what=field, pattern=LABEL_NAME, limit=limit)
            if problem:
                problems.append(outline.problem((field,), problem))

    problems += _check_secrets(outline)
    return problems


def _check_secrets(outline: Outline) -> list[Problem]:
    """Reject network passwords: descriptions are committed to Git and shipped in ConfigMaps."""
    network = outline.raw.get("network_resources")
    interfaces = network.get("redirection_interface") if isinstance(network, dict) else None
    problems = []
    for index, interface in enumerate(interfaces if isinstance(interfaces, list) else []):
        pairing = interface.get("pairing_info") if isinstance(interface, dict) else None
        if isinstance(pairing, dict) and "net_key" in pairing:
            loc = ("network_resources", "redirection_interface", index, "pairing_info", "net_key")
            problems.append(outline.problem(loc, "a network password would be committed to Git and stored in a ConfigMap; remove net_key and give the key to the node out of band"))
    return problems


def _check_continuum_count(continuums: Sequence[Outline]) -> list[Problem]:
    if not continuums:
        return [Problem(layout.CONTINUUM_DIR, kind=CONTINUUM, message=f"no continuum description; expected exactly one file {layout.CONTINUUM_DIR}/<host>.yaml")]
    if len(continuums) == 1:
        return []
    names = ", ".join(outline.path.rsplit("/", 1)[-1] for outline in continuums)
    message = f"expected exactly one continuum description, found {len(continuums)} ({names}); keep one"
    return [Problem(outline.path, 1, 1, CONTINUUM, "", message) for outline in continuums[1:]]


def _check_clusters(continuum: Outline | None, clusters: Sequence[Outline]) -> list[Problem]:
    problems = []
    by_id: dict[str, Outline] = {}
    for outline in sorted(clusters, key=lambda outline: outline.path):
        cluster_id = outline.cluster_id
        if cluster_id is None:
            continue
        if cluster_id in by_id:
            problems.append(outline.problem(("cluster_id",), f"cluster_id {cluster_id!r} is also the cluster_id of {by_id[cluster_id].path}; each member cluster has one description"))
        else:
            by_id[cluster_id] = outline

    listed = continuum.members if continuum else None
    if continuum is not None and listed is not None:
        every_id_known = all(outline.cluster_id is not None for outline in clusters)
        problems += _duplicates(continuum, "clusters", listed, "cluster")
        for index, cluster_id in enumerate(listed):
            if cluster_id not in by_id and every_id_known:
                problems.append(continuum.problem(("clusters", index), _missing_cluster(cluster_id, clusters)))
    if listed is not None:
        for cluster_id, outline in sorted(by_id.items()):
            if cluster_id not in listed:
                where = continuum.path if continuum else "the continuum description"
                problems.append(outline.problem(("cluster_id",), f"cluster {cluster_id!r} is not listed in the clusters of {where}; add it there"))
    return problems


def _missing_cluster(cluster_id: str, clusters: Sequence[Outline]) -> str:
    message = f"cluster {cluster_id!r} has no description: no file in {layout.CLUSTERS_DIR}/ has this cluster_id"
    by_host = next((outline for outline in clusters if outline.host == cluster_id and outline.cluster_id), None)
    if by_host is not None:
        return f"{message}; {by_host.path} is named after the cluster agent's host and has cluster_id {by_host.cluster_id!r}: list that"
    return message + _suggestion(cluster_id, [outline.cluster_id for outline in clusters if outline.cluster_id])


def _check_nodes(clusters: Sequence[Outline], nodes: Sequence[Outline]) -> list[Problem]:
    problems = []
    node_by_host = {outline.host: outline for outline in nodes}
    owner: dict[str, Outline] = {}
    for cluster in sorted(clusters, key=lambda outline: (outline.cluster_id or "", outline.path)):
        listed = cluster.members or []
        problems += _duplicates(cluster, "nodes", listed, "node")
        for index, host in enumerate(listed):
            if host in owner:
                # The same cluster listing a node twice is reported as a duplicate above.
                if owner[host] is not cluster:
                    problems.append(cluster.problem(("nodes", index), f"node {host!r} is also listed by {owner[host].path}; a node belongs to exactly one cluster"))
                continue
            owner[host] = cluster
            if host not in node_by_host:
                hint = _suggestion(host, list(node_by_host))
                problems.append(cluster.problem(("nodes", index), f"node {host!r} has no description; expected {layout.NODES_DIR}/{host}.yaml{hint}"))

    every_list_known = all(cluster.members is not None and cluster.cluster_id is not None for cluster in clusters)
    for host, node in sorted(node_by_host.items()):
        listing = owner.get(host)
        cluster_id = node.cluster_id
        if listing is None and every_list_known:
            named = f"; its cluster_id is {cluster_id!r}" if cluster_id else ""
            problems.append(node.problem((), f"node {host!r} is not listed in the nodes of any cluster{named}; add it to its cluster's nodes"))
        elif listing is not None and cluster_id is not None and listing.cluster_id is not None and cluster_id != listing.cluster_id:
            problems.append(node.problem(("cluster_id",), f"cluster_id is {cluster_id!r} but cluster {listing.cluster_id!r} ({listing.path}) lists this node; set cluster_id to {listing.cluster_id!r} or move the node"))
    return problems


def _duplicates(outline: Outline, field: str, values: Iterable[str], what: str) -> list[Problem]:
    seen: dict[str, int] = {}
    problems = []
    for index, value in enumerate(values):
        if value in seen:
            problems.append(outline.problem((field, index), f"{what} {value!r} is listed twice (also at index {seen[value]}); keep one"))
        else:
            seen[value] = index
    return problems


def _suggestion(value: str, known: list[str]) -> str:
    close = difflib.get_close_matches(value, known, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""
