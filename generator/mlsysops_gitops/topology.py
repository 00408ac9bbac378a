"""What a change of the generated files means for the continuum's topology.

Render copies every description verbatim into the overlay of the agent that reads it.
So the paths that a change creates, updates and deletes under ``overlays/`` tell which
hosts were added, changed, moved or removed, and in which cluster. The commit message of
a render and the ``diff`` command both read it from here.
"""

from __future__ import annotations

import dataclasses
import re
import textwrap
from collections.abc import Iterable, Sequence

from mlsysops_gitops import layout
from mlsysops_gitops.descriptions.yamlfile import read_document
from mlsysops_gitops.render.overlays import CLUSTERS, MANAGEMENT
from mlsysops_gitops.repository.files import Changes

CONTINUUM = "continuum"
CLUSTER = "cluster"
NODE = "node"

ADDED = "added"
CHANGED = "changed"
MOVED = "moved"
REMOVED = "removed"

_DESCRIPTION_PATHS = (
    (CONTINUUM, re.compile(rf"^{MANAGEMENT}/continuum-agent/descriptions/(?P<host>[^/]+)\.yaml$")),
    (CLUSTER, re.compile(rf"^{CLUSTERS}/(?P<cluster>[^/]+)/cluster-agent/descriptions/(?P<host>[^/]+)\.yaml$")),
    (NODE, re.compile(rf"^{CLUSTERS}/(?P<cluster>[^/]+)/node-agents/descriptions/(?P<host>[^/]+)\.yaml$")),
)
# Every cluster overlay has a cluster agent, so this file exists exactly while the cluster does.
_CLUSTER_MARKER = re.compile(rf"^{CLUSTERS}/(?P<cluster>[^/]+)/cluster-agent/kustomization\.yaml$")

SUBJECT_LIMIT = 71
BODY_WIDTH = 72


@dataclasses.dataclass(frozen=True, order=True)
class HostChange:
    """A host whose description was added, changed, moved to another cluster, or removed."""

    role: str
    host: str
    change: str
    cluster_id: str = ""
    previous_cluster_id: str = ""

    def describe(self) -> str:
        if self.change == MOVED:
            return f"{self.role} {self.host} moved from cluster {self.previous_cluster_id} to {self.cluster_id}"
        where = f" in cluster {self.cluster_id}" if self.role == NODE else ""
        return f"{self.role} {self.host}{where} {self.change}"


@dataclasses.dataclass(frozen=True)
class ContinuumChanges:
    """The continuum-level reading of a change: clusters, hosts, settings and files."""

    files: Changes
    clusters_added: tuple[str, ...] = ()
    clusters_removed: tuple[str, ...] = ()
    hosts: tuple[HostChange, ...] = ()
    settings_changed: bool = False
    settings: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.files or self.settings_changed)

    def hosts_of(self, role: str, change: str | None = None) -> list[HostChange]:
        return [host for host in self.hosts if host.role == role and (change is None or host.change == change)]

    def clusters_changed(self) -> list[str]:
        """Return the clusters that exist on both sides and whose descriptions changed."""
        touched = {host.cluster_id for host in self.hosts if host.role in (CLUSTER, NODE)}
        touched |= {host.previous_cluster_id for host in self.hosts if host.change == MOVED}
        return sorted(touched - set(self.clusters_added) - set(self.clusters_removed) - {""})

    def as_dict(self) -> dict[str, object]:
        return {
            "clusters": {"added": list(self.clusters_added), "removed": list(self.clusters_removed), "changed": self.clusters_changed()},
            "hosts": [dataclasses.asdict(host) for host in self.hosts],
            "settings": {"changed": self.settings_changed, "names": list(self.settings)},
            "files": {"created": list(self.files.created), "updated": list(self.files.updated), "deleted": list(self.files.deleted)},
        }


def summarize(files: Changes, old_settings: bytes | None = None, new_settings: bytes | None = None) -> ContinuumChanges:
    """Read the continuum changes out of the generated files a change creates, updates and deletes."""
    old_hosts = _described_hosts((*files.updated, *files.deleted))
    new_hosts = _described_hosts((*files.created, *files.updated))
    hosts = []
    for key in sorted(old_hosts.keys() | new_hosts.keys()):
        role, host = key
        old_cluster, new_cluster = old_hosts.get(key), new_hosts.get(key)
        if old_cluster is None:
            hosts.append(HostChange(role, host, ADDED, new_cluster or ""))
        elif new_cluster is None:
            hosts.append(HostChange(role, host, REMOVED, old_cluster))
        elif old_cluster != new_cluster:
            hosts.append(HostChange(role, host, MOVED, new_cluster, old_cluster))
        else:
            hosts.append(HostChange(role, host, CHANGED, new_cluster))
    settings_changed = old_settings != new_settings
    return ContinuumChanges(
        files=files,
        clusters_added=_clusters(files.created),
        clusters_removed=_clusters(files.deleted),
        hosts=tuple(hosts),
        settings_changed=settings_changed,
        settings=changed_settings(old_settings, new_settings) if settings_changed else (),
    )


def _described_hosts(paths: Iterable[str]) -> dict[tuple[str, str], str]:
    """Return ``{(role, host): cluster_id}`` for the description copies among ``paths``."""
    found: dict[tuple[str, str], str] = {}
    for path in paths:
        for role, pattern in _DESCRIPTION_PATHS:
            match = pattern.match(path)
            if match:
                found[(role, match["host"])] = match.groupdict().get("cluster") or ""
    return found


def _clusters(paths: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({match["cluster"] for path in paths if (match := _CLUSTER_MARKER.match(path))}))


def changed_settings(old: bytes | None, new: bytes | None) -> tuple[str, ...]:
    """Return the names of the settings whose values differ between two settings files.

    A file that does not parse as a mapping counts as empty, so every setting the other
    file contains is reported.
    """
    before, after = _settings_values(old), _settings_values(new)
    return tuple(sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name)))


def _settings_values(content: bytes | None) -> dict[str, object]:
    if content is None:
        return {}
    document, _ = read_document(layout.SETTINGS_FILE, content)
    if document is None or not isinstance(document.data, dict):
        return {}
    return {str(key): value for key, value in document.data.items()}


def commit_message(summary: ContinuumChanges, inputs_changed: Sequence[str] = ()) -> str:
    """Return a commit message: a subject under 72 characters and a body that lists the rest.

    ``inputs_changed`` names the changed description and settings files, which explain a
    commit whose generated files did not change.
    """
    subject = _subject(summary, inputs_changed)
    body = _body(summary, inputs_changed)
    return f"{subject}\n\n{body}\n" if body else f"{subject}\n"


def _subject(summary: ContinuumChanges, inputs_changed: Sequence[str]) -> str:
    """Return the most detailed subject that fits: names first, then counts, then a total."""
    for detail in (_NAMES, _COUNTS):
        parts = _subject_parts(summary, detail)
        if parts:
            subject = _capitalize(", ".join(parts))
            if len(subject) <= SUBJECT_LIMIT:
                return subject
    if summary.hosts or summary.clusters_added or summary.clusters_removed:
        total = len(summary.hosts) + len(summary.clusters_added) + len(summary.clusters_removed)
        return f"Update the continuum: {total} clusters and hosts changed"
    if summary.files:
        count = len(summary.files.paths)
        return f"Regenerate {count} generated file{'s' if count != 1 else ''}"
    if inputs_changed:
        return "Update descriptions; generated files unchanged"
    return "Render the MLSysOps continuum"


_NAMES, _COUNTS = "names", "counts"
VERBS = {ADDED: "add", CHANGED: "update", MOVED: "move", REMOVED: "remove"}


def _subject_parts(summary: ContinuumChanges, detail: str) -> list[str]:
    in_added_cluster = set(summary.clusters_added) | set(summary.clusters_removed)
    nodes = [host for host in summary.hosts_of(NODE) if host.cluster_id not in in_added_cluster or host.change == MOVED]
    groups = [
        ("add", "cluster", list(summary.clusters_added)),
        ("remove", "cluster", list(summary.clusters_removed)),
        ("add", "node", [host.host for host in nodes if host.change == ADDED]),
        ("update", "node", [host.host for host in nodes if host.change == CHANGED]),
        ("move", "node", [host.host for host in nodes if host.change == MOVED]),
        ("remove", "node", [host.host for host in nodes if host.change == REMOVED]),
        ("update", "cluster", [host.cluster_id for host in summary.hosts_of(CLUSTER) if host.cluster_id not in in_added_cluster]),
    ]
    # Adding or removing a cluster always edits the continuum's cluster list: no news there.
    if not in_added_cluster:
        groups += [(VERBS[host.change], "continuum", [host.host]) for host in summary.hosts_of(CONTINUUM)]
    parts = []
    for verb, noun, names in groups:
        names = sorted(set(names))
        if not names:
            continue
        if noun == "continuum":
            parts.append(f"{verb} continuum")
        elif detail == _NAMES:
            parts.append(f"{verb} {noun}{'s' if len(names) > 1 else ''} {_join(names)}")
        else:
            parts.append(f"{verb} {len(names)} {noun}{'s' if len(names) > 1 else ''}")
    if summary.settings_changed:
        if detail == _NAMES and summary.settings:
            parts.append(f"set {_join(list(summary.settings))}")
        else:
            parts.append("update settings")
    return parts


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]


def _body(summary: ContinuumChanges, inputs_changed: Sequence[str]) -> str:
    lines = [f"- {line}" for line in describe(summary)]
    if not summary.files and inputs_changed:
        lines += [f"- {path} changed" for path in inputs_changed]
    if summary.files:
        files = summary.files
        lines.append(f"- generated files: {len(files.created)} created, {len(files.updated)} updated, {len(files.deleted)} deleted")
    wrapped = [textwrap.fill(line, BODY_WIDTH, subsequent_indent="  ", break_on_hyphens=False, break_long_words=False) for line in lines]
    return "\n".join(wrapped)


def describe(summary: ContinuumChanges) -> list[str]:
    """Return one line per changed cluster, moved host, continuum and settings change."""
    lines = []
    for cluster_id in summary.clusters_added:
        agent = [host.host for host in summary.hosts_of(CLUSTER, ADDED) if host.cluster_id == cluster_id]
        nodes = [host.host for host in summary.hosts_of(NODE, ADDED) if host.cluster_id == cluster_id]
        where = f", cluster agent on {', '.join(agent)}" if agent else ""
        lines.append(f"cluster {cluster_id} added{where}, nodes: {', '.join(nodes) or 'none'}")
    for cluster_id in summary.clusters_removed:
        nodes = [host.host for host in summary.hosts_of(NODE, REMOVED) if host.cluster_id == cluster_id]
        lines.append(f"cluster {cluster_id} removed with its nodes: {', '.join(nodes) or 'none'}")
    for cluster_id in summary.clusters_changed():
        parts = []
        for host in summary.hosts:
            if host.change == MOVED and cluster_id in (host.cluster_id, host.previous_cluster_id):
                parts.append(f"node {host.host} moved {'in from ' + host.previous_cluster_id if host.cluster_id == cluster_id else 'out to ' + host.cluster_id}")
            elif host.change != MOVED and host.cluster_id == cluster_id and host.role in (CLUSTER, NODE):
                parts.append(f"{'cluster description' if host.role == CLUSTER else 'node ' + host.host} {host.change}")
        lines.append(f"cluster {cluster_id}: {', '.join(parts)}")
    for host in summary.hosts_of(CONTINUUM):
        lines.append(f"continuum description ({host.host}) {host.change}")
    if summary.settings_changed:
        names = ", ".join(summary.settings) or "comments or layout only"
        lines.append(f"{layout.SETTINGS_FILE} changed: {names}")
    return lines
