"""The doctor command: find what would stop the sync waves from gating, without a cluster.

It reads the rendered ``argocd/`` and ``overlays/`` folders as they are on disk (edited
by hand or not) and, when given, ``argocd-cm`` as saved from the management cluster.
It runs no kustomize and opens no network connection. It reports:

- an Application tree that Argo CD would not walk as intended: no single root, a child
  Application file that no parent lists, a path that does not exist, a source or
  destination the AppProject refuses;
- sync waves that do not order framework, services, continuum agent and clusters, or a
  cluster's agent and its node agents, and a layout in which one cluster that fails
  holds back the others;
- an ``argocd-cm`` without the health check of Applications (then no wave between
  Applications waits), with a check that ignores the sync status, or with resource
  exclusions that hide kinds the repository relies on;
- Karmada policies that would leave a cluster's agents unpropagated, which Karmada
  reports as healthy, so the next wave starts with no agent running.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import posixpath
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from mlsysops_gitops import layout
from mlsysops_gitops.descriptions.yamlfile import type_phrase
from mlsysops_gitops.errors import Problem
from mlsysops_gitops.render.argocd import GENERATE_PATHS, HEALTH_CHECK_KEY, SYNC_WAVE
from mlsysops_gitops.render.overlays import CLUSTERS, KARMADA, MANAGEMENT

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover (PyYAML built without libyaml)
    _Loader = yaml.SafeLoader

HEALTH_PATCH = f"{layout.ARGOCD_DIR}/argocd-cm-health-patch.yaml"
LEGACY_CUSTOMIZATIONS = "resource.customizations"
APPLY_PATCH = f"kubectl -n argocd patch configmap argocd-cm --patch-file {HEALTH_PATCH}"
SAVE_ARGOCD_CM = "kubectl -n argocd get configmap argocd-cm -o yaml > argocd-cm.yaml"
# Kinds the bootstrap order depends on, as (API group, kind).
RELIED_ON_KINDS = (
    ("argoproj.io", "Application"),
    ("apps", "DaemonSet"),
    ("", "ConfigMap"),
    ("policy.karmada.io", "PropagationPolicy"),
    ("policy.karmada.io", "ClusterPropagationPolicy"),
)
# Source paths that must sync in this order when they share a parent Application.
ORDER = (
    (f"{MANAGEMENT}/framework", f"{MANAGEMENT}/services"),
    (f"{MANAGEMENT}/services", f"{MANAGEMENT}/continuum-agent"),
    (f"{MANAGEMENT}/continuum-agent", f"{layout.ARGOCD_DIR}/clusters/*"),
    (KARMADA, f"{layout.ARGOCD_DIR}/clusters/*"),
)


def dig(value: Any, *keys: str) -> Any:
    """Return the value at ``keys`` in nested mappings, None where a level is missing or not a mapping.

    Files edited by hand may contain any shape, so lookups return None instead of failing.
    """
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


@dataclasses.dataclass
class Application:
    """One Application file as found on disk, with the children its path lists."""

    file: str
    obj: dict[str, Any]
    children: list[Application] = dataclasses.field(default_factory=list)

    @property
    def name(self) -> str:
        return str(dig(self.obj, "metadata", "name") or "?")

    @property
    def path(self) -> str:
        return str(dig(self.obj, "spec", "source", "path") or "")

    def annotation(self, key: str) -> Any:
        return dig(self.obj, "metadata", "annotations", key)

    def walk(self) -> Iterator[Application]:
        yield self
        for child in self.children:
            yield from child.walk()


class _Reader:
    """Reads YAML files of the repository once each and records the problems it meets."""

    def __init__(self, repo: Path) -> None:
        self.repo = repo
        self.problems: list[Problem] = []

    def documents(self, relative: str) -> list[dict[str, Any]]:
        path = self.repo / relative
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            self.problems.append(Problem(relative, message="file not found; run mlsysops-gitops render"))
            return []
        except OSError as error:
            self.problems.append(Problem(relative, message=f"cannot read file: {error.strerror}"))
            return []
        except UnicodeDecodeError as error:
            self.problems.append(Problem(relative, message=f"{_not_utf8(error)}; run mlsysops-gitops render to write it again"))
            return []
        return load_documents(relative, text, self.problems)


def _not_utf8(error: UnicodeDecodeError) -> str:
    return f"file is not UTF-8 text (byte 0x{error.object[error.start]:02x} at offset {error.start})"


def parse_yaml(name: str, text: str, problems: list[Problem]) -> list[Any] | None:
    """Parse every YAML document of ``text``; record a located problem and return None when it is not YAML."""
    try:
        return list(yaml.load_all(text, Loader=_Loader))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        problems.append(Problem(name, line, column, message=f"invalid YAML: {getattr(error, 'problem', None) or error}"))
        return None


def load_documents(name: str, text: str, problems: list[Problem]) -> list[dict[str, Any]]:
    """Return the mappings among the YAML documents of ``text``."""
    return [document for document in parse_yaml(name, text, problems) or [] if isinstance(document, dict)]


def run_doctor(repo: Path, argocd_cm: Path | None = None) -> list[Problem]:
    """Return every problem that would keep the rendered waves from gating, errors first."""
    reader = _Reader(repo)
    root = _application_tree(reader)
    if root is not None:
        _check_applications(reader, root)
        _check_order(reader, root)
    _check_health_patch(reader)
    _check_argocd_cm(reader, argocd_cm)
    _check_karmada(reader)
    return sorted(reader.problems, key=lambda problem: (problem.severity != "error", problem))


# The Application tree.


def _kustomization_resources(reader: _Reader, folder: str) -> list[str]:
    documents = reader.documents(f"{folder}/kustomization.yaml")
    resources = _items(documents[0].get("resources")) if documents else []
    return [posixpath.normpath(f"{folder}/{resource}") for resource in resources if isinstance(resource, str)]


def _applications_in(reader: _Reader, folder: str) -> list[Application]:
    found = []
    for file in _kustomization_resources(reader, folder):
        if (reader.repo / file).is_file():
            found += [Application(file, obj) for obj in reader.documents(file) if obj.get("kind") == "Application"]
    return found


def _application_tree(reader: _Reader) -> Application | None:
    roots = _applications_in(reader, layout.ARGOCD_DIR)
    if len(roots) != 1:
        names = ", ".join(root.name for root in roots) or "none"
        reader.problems.append(Problem(f"{layout.ARGOCD_DIR}/kustomization.yaml", message=f"expected exactly one root Application, found {len(roots)} ({names})"))
        return None
    _attach_children(reader, roots[0], seen=set())
    reached = {app.file for app in roots[0].walk()}
    for path in sorted((reader.repo / layout.ARGOCD_DIR).rglob("*.yaml")):
        relative = path.relative_to(reader.repo).as_posix()
        if relative not in reached and any(obj.get("kind") == "Application" for obj in reader.documents(relative)):
            reader.problems.append(Problem(relative, kind="Application", message="no parent Application lists this file, so Argo CD never creates it"))
    return roots[0]


def _attach_children(reader: _Reader, app: Application, seen: set[str]) -> None:
    if not app.path.startswith(f"{layout.ARGOCD_DIR}/") or app.path in seen:
        return
    seen.add(app.path)
    app.children = _applications_in(reader, app.path)
    for child in app.children:
        _attach_children(reader, child, seen)


def _check_applications(reader: _Reader, root: Application) -> None:
    project = _project(reader)
    for app in root.walk():
        _check_wave(reader, app)
        if not app.annotation(GENERATE_PATHS):
            reader.problems.append(Problem(app.file, kind="Application", field="metadata.annotations", message=f"no {GENERATE_PATHS}: every commit refreshes {app.name}", severity="warning"))
        if not (reader.repo / app.path / "kustomization.yaml").is_file():
            reader.problems.append(Problem(app.file, kind="Application", field="spec.source.path", message=f"{app.name}: path {app.path!r} contains no kustomization.yaml"))
        if app is not root and not dig(app.obj, "spec", "syncPolicy", "automated"):
            reader.problems.append(Problem(app.file, kind="Application", field="spec.syncPolicy.automated", message=f"{app.name} syncs only by hand, so its parent's next wave waits for someone to sync it", severity="warning"))
        if project is not None:
            _check_admitted(reader, app, project)


def _check_wave(reader: _Reader, app: Application) -> None:
    value = app.annotation(SYNC_WAVE)
    if value is None:
        return
    if not isinstance(value, str):
        reader.problems.append(Problem(app.file, kind="Application", field=f"metadata.annotations.{SYNC_WAVE}", message=f"{value!r} is not a string; quote it, as annotations are strings"))
    elif not value.lstrip("-").isdigit():
        reader.problems.append(Problem(app.file, kind="Application", field=f"metadata.annotations.{SYNC_WAVE}", message=f"{value!r} is not an integer"))


def wave(app: Application) -> int:
    """Return the sync wave Argo CD reads from an Application; absent or invalid reads as 0."""
    value = app.annotation(SYNC_WAVE)
    try:
        return int(str(value)) if value is not None else 0
    except ValueError:
        return 0


def _project(reader: _Reader) -> dict[str, Any] | None:
    for file in _kustomization_resources(reader, layout.ARGOCD_DIR):
        if (reader.repo / file).is_file():
            for obj in reader.documents(file):
                if obj.get("kind") == "AppProject":
                    return obj
    reader.problems.append(Problem(f"{layout.ARGOCD_DIR}/kustomization.yaml", kind="AppProject", message="no AppProject listed; Applications of a missing project do not sync"))
    return None


def _check_admitted(reader: _Reader, app: Application, project: dict[str, Any]) -> None:
    project_name = dig(project, "metadata", "name")
    source = str(dig(app.obj, "spec", "source", "repoURL") or "")
    if not any(fnmatch.fnmatchcase(source, str(pattern)) for pattern in _items(dig(project, "spec", "sourceRepos"))):
        reader.problems.append(Problem(app.file, kind="Application", field="spec.source.repoURL", message=f"{app.name}: project {project_name!r} does not admit repository {source!r}"))
    name = str(dig(app.obj, "spec", "destination", "name") or "")
    namespace = str(dig(app.obj, "spec", "destination", "namespace") or "")
    for allowed in _items(dig(project, "spec", "destinations")):
        if fnmatch.fnmatchcase(name, str(dig(allowed, "name") or "")) and fnmatch.fnmatchcase(namespace, str(dig(allowed, "namespace") or "")):
            return
    reader.problems.append(Problem(app.file, kind="Application", field="spec.destination", message=f"{app.name}: project {project_name!r} does not admit destination {name}/{namespace}"))


# Wave order.


def _check_order(reader: _Reader, root: Application) -> None:
    for parent in root.walk():
        children = parent.children
        for before_path, after_path in ORDER:
            for before in (child for child in children if fnmatch.fnmatchcase(child.path, before_path)):
                for after in (child for child in children if fnmatch.fnmatchcase(child.path, after_path)):
                    _check_before(reader, before, after)
        for agent in (child for child in children if child.path.endswith("/cluster-agent")):
            for nodes in (child for child in children if child.path == agent.path.replace("/cluster-agent", "/node-agents")):
                _check_before(reader, agent, nodes)
        _check_cluster_isolation(reader, parent)


def _check_before(reader: _Reader, before: Application, after: Application) -> None:
    if wave(before) >= wave(after):
        message = f"{before.name} (wave {wave(before)}) must be healthy before {after.name} (wave {wave(after)}) starts; give {after.name} a higher sync-wave"
        reader.problems.append(Problem(after.file, kind="Application", field=f"metadata.annotations.{SYNC_WAVE}", message=message))


def _cluster_of(app: Application) -> str | None:
    prefix = f"{CLUSTERS}/"
    if app.path.startswith(prefix):
        return app.path[len(prefix) :].split("/", 1)[0]
    prefix = f"{layout.ARGOCD_DIR}/clusters/"
    if app.path.startswith(prefix):
        return app.path[len(prefix) :].split("/", 1)[0]
    return None


def _check_cluster_isolation(reader: _Reader, parent: Application) -> None:
    """Report Applications that a failure in another cluster would hold back in ``parent``."""
    first_wave: dict[str, int] = {}
    for child in parent.children:
        cluster = _cluster_of(child)
        if cluster is not None:
            first_wave[cluster] = min(first_wave.get(cluster, wave(child)), wave(child))
    for child in parent.children:
        cluster = _cluster_of(child)
        blocking = sorted(other for other, first in first_wave.items() if other != cluster and first < wave(child))
        if cluster is not None and blocking:
            message = f"{child.name} waits in {parent.name} for every Application of earlier waves, so a failure in cluster {blocking[0]!r} would hold it back; give each cluster its own app-of-apps"
            reader.problems.append(Problem(child.file, kind="Application", field=f"metadata.annotations.{SYNC_WAVE}", message=message))
        elif blocking:
            message = f"{child.name} starts only once every cluster of earlier waves is healthy, so any one of {len(blocking)} clusters (such as {blocking[0]!r}) holds it back by failing"
            reader.problems.append(Problem(child.file, kind="Application", field=f"metadata.annotations.{SYNC_WAVE}", message=message, severity="warning"))


# The health check of Applications.


def _check_health_patch(reader: _Reader) -> None:
    if not (reader.repo / HEALTH_PATCH).is_file():
        reader.problems.append(Problem(HEALTH_PATCH, message="health check patch for argocd-cm not found; run mlsysops-gitops render", severity="warning"))
        return
    documents = reader.documents(HEALTH_PATCH)
    if not documents or not dig(documents[0], "data", HEALTH_CHECK_KEY):
        reader.problems.append(Problem(HEALTH_PATCH, kind="ConfigMap", field=f"data.{HEALTH_CHECK_KEY}", message="missing; run mlsysops-gitops render to restore the patch"))


def _check_argocd_cm(reader: _Reader, argocd_cm: Path | None) -> None:
    if argocd_cm is None:
        message = f"argocd-cm not checked, so whether waves between Applications wait is unknown; save it with '{SAVE_ARGOCD_CM}' and pass --argocd-cm argocd-cm.yaml"
        reader.problems.append(Problem("argocd-cm", message=message, severity="warning"))
        return
    name = str(argocd_cm)
    try:
        text = argocd_cm.read_text(encoding="utf-8")
    except OSError as error:
        reader.problems.append(Problem(name, message=f"cannot read file: {error.strerror}"))
        return
    except UnicodeDecodeError as error:
        reader.problems.append(Problem(name, message=f"{_not_utf8(error)}; save the ConfigMap again with '{SAVE_ARGOCD_CM}'"))
        return
    data = _argocd_cm_data(name, text, reader.problems)
    if data is None:
        return
    _check_health_check(reader, name, data)
    _check_exclusions(reader, name, data)


def _argocd_cm_data(name: str, text: str, problems: list[Problem]) -> dict[str, Any] | None:
    documents = parse_yaml(name, text, problems)
    if documents is None:
        return None
    for document in documents:
        if not isinstance(document, dict):
            continue
        items = _items(document.get("items")) if document.get("kind") == "List" else [document]
        for item in items:
            if dig(item, "kind") == "ConfigMap" and dig(item, "metadata", "name") == "argocd-cm":
                data = dig(item, "data")
                if data is None or isinstance(data, dict):
                    return data or {}
                problems.append(Problem(name, kind="ConfigMap", field="data", message=f"data is {type_phrase(data)}, not a mapping of keys to strings; save argocd-cm again with '{SAVE_ARGOCD_CM}'"))
                return None
    problems.append(Problem(name, message=f"no ConfigMap named argocd-cm found; save it with '{SAVE_ARGOCD_CM}'"))
    return None


def application_health_lua(name: str, data: dict[str, Any], problems: list[Problem]) -> str | None:
    """Return the Lua health check of Applications in argocd-cm ``data``, in either of its two forms."""
    if isinstance(data.get(HEALTH_CHECK_KEY), str):
        return str(data[HEALTH_CHECK_KEY])
    legacy = data.get(LEGACY_CUSTOMIZATIONS)
    if not isinstance(legacy, str):
        return None
    customizations = load_documents(f"{name}: data.{LEGACY_CUSTOMIZATIONS}", legacy, problems)
    entry = customizations[0].get("argoproj.io/Application") if customizations else None
    lua = entry.get("health.lua") if isinstance(entry, dict) else None
    return lua if isinstance(lua, str) else None


def _check_health_check(reader: _Reader, name: str, data: dict[str, Any]) -> None:
    field = f"data.{HEALTH_CHECK_KEY}"
    lua = application_health_lua(name, data, reader.problems)
    if lua is None:
        message = f"no health check for argoproj.io/Application: Argo CD (1.8 and later) then reads every child Application as healthy at once, so no wave between Applications waits; apply the patch: {APPLY_PATCH}"
        reader.problems.append(Problem(name, kind="ConfigMap", field=field, message=message))
        return
    if "status.health" not in lua:
        reader.problems.append(Problem(name, kind="ConfigMap", field=field, message=f"the health check of Applications does not read obj.status.health, so waves may not wait for children; apply the patch: {APPLY_PATCH}"))
    elif "status.sync" not in lua:
        message = f"the health check of Applications ignores obj.status.sync, so a child whose resources failed to apply can read Healthy and let the next wave start; apply the patch: {APPLY_PATCH}"
        reader.problems.append(Problem(name, kind="ConfigMap", field=field, message=message, severity="warning"))


def _check_exclusions(reader: _Reader, name: str, data: dict[str, Any]) -> None:
    text = data.get("resource.exclusions")
    if not isinstance(text, str):
        return
    documents = parse_yaml(f"{name}: data.resource.exclusions", text, reader.problems) or [None]
    entries = documents[0]
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        for group, kind in RELIED_ON_KINDS:
            if _globs_match(entry.get("apiGroups"), group) and _globs_match(entry.get("kinds"), kind):
                label = f"{group}/{kind}" if group else kind
                reader.problems.append(Problem(name, kind="ConfigMap", field="data.resource.exclusions", message=f"excludes {label}, so Argo CD neither applies nor watches it and the waves cannot wait for it; remove that exclusion"))


def _globs_match(patterns: Any, value: str) -> bool:
    return isinstance(patterns, list) and any(isinstance(pattern, str) and fnmatch.fnmatchcase(value, pattern) for pattern in patterns)


# Karmada placement.


def _check_karmada(reader: _Reader) -> None:
    clusters_dir = reader.repo / CLUSTERS
    cluster_ids = sorted(entry.name for entry in clusters_dir.iterdir() if entry.is_dir()) if clusters_dir.is_dir() else []
    for cluster_id in cluster_ids:
        _check_cluster_policy(reader, cluster_id)
        for part in ("cluster-agent", "node-agents"):
            _check_cluster_label(reader, cluster_id, f"{CLUSTERS}/{cluster_id}/{part}/kustomization.yaml")
    shared = f"{KARMADA}/shared-propagation-policy.yaml"
    for policy in reader.documents(shared):
        if not _cluster_names(policy):
            reader.problems.append(Problem(shared, kind=str(policy.get("kind")), field="spec.placement.clusterAffinity.clusterNames", message="lists no cluster, so no member cluster gets the namespace and RBAC the agents need"))


def _cluster_names(policy: dict[str, Any]) -> list[Any]:
    return _items(dig(policy, "spec", "placement", "clusterAffinity", "clusterNames"))


def _check_cluster_policy(reader: _Reader, cluster_id: str) -> None:
    file = f"{CLUSTERS}/{cluster_id}/cluster-agent/propagation-policy.yaml"
    policies = [obj for obj in reader.documents(file) if obj.get("kind") == "PropagationPolicy"]
    if not policies:
        reader.problems.append(Problem(file, message=f"no PropagationPolicy for cluster {cluster_id!r}: Karmada reports its unpropagated DaemonSets as healthy, so its node agents' wave would start with no cluster agent running"))
        return
    for policy in policies:
        if _cluster_names(policy) != [cluster_id]:
            reader.problems.append(Problem(file, kind="PropagationPolicy", field="spec.placement.clusterAffinity.clusterNames", message=f"is {_cluster_names(policy)!r}, expected [{cluster_id!r}]"))
        selectors = _items(dig(policy, "spec", "resourceSelectors"))
        labels = [dig(selector, "labelSelector", "matchLabels", layout.CLUSTER_LABEL) for selector in selectors]
        if labels != [cluster_id] * len(labels) or not labels:
            reader.problems.append(Problem(file, kind="PropagationPolicy", field="spec.resourceSelectors", message=f"do not all select label {layout.CLUSTER_LABEL}={cluster_id}, so some of the cluster's objects stay on the Karmada API server"))


def _check_cluster_label(reader: _Reader, cluster_id: str, file: str) -> None:
    documents = reader.documents(file)
    if not documents:
        return
    pairs = [dig(entry, "pairs", layout.CLUSTER_LABEL) for entry in _items(documents[0].get("labels"))]
    if cluster_id not in pairs:
        reader.problems.append(Problem(file, kind="Kustomization", field="labels", message=f"does not set {layout.CLUSTER_LABEL}: {cluster_id}, so the cluster's PropagationPolicy does not select these objects"))
