"""The diff command: what a fresh render changes against the committed outputs.

Files are compared byte for byte, and the changed paths are read as changes to the
continuum (``topology``). Then the kustomization of every Argo CD Application whose
inputs changed is built with the real kustomize on both sides. The objects of both
builds give what each Application creates, updates and prunes, and which workloads roll
their pods because a ConfigMap name in their pod template moved. Kustomize puts the
content hash of a generated ConfigMap in its name, so a changed description gives its
ConfigMap a new name, and the agents that mount it restart.
"""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from mlsysops_gitops import layout, topology
from mlsysops_gitops.commands.graph import mermaid
from mlsysops_gitops.commands.render import read_inputs
from mlsysops_gitops.render import bases
from mlsysops_gitops.render.argocd import GENERATE_PATHS, SYNC_WAVE, AppSpec, applications
from mlsysops_gitops.render.pipeline import render_tree
from mlsysops_gitops.repository import files, git
from mlsysops_gitops.verify import kustomize

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover (PyYAML built without libyaml)
    _Loader = yaml.SafeLoader

WORKLOAD_KINDS = ("DaemonSet", "Deployment", "StatefulSet")
SYNC_OPTIONS = "argocd.argoproj.io/sync-options"
ADDED, UPDATED, REMOVED = "added", "updated", "removed"


@dataclasses.dataclass(frozen=True)
class DiffOptions:
    """Options of one diff, as the command line gives them."""

    repo: Path
    overrides: dict[str, Any] = dataclasses.field(default_factory=dict)
    base: str = "HEAD"
    strict: bool = False
    jobs: int | None = None


@dataclasses.dataclass(frozen=True, order=True)
class ObjectRef:
    """A Kubernetes object, identified by kind, namespace and name as within one Argo CD Application."""

    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"


@dataclasses.dataclass(frozen=True)
class Application:
    """An Argo CD Application read from a rendered manifest."""

    name: str
    path: str
    destination: str
    wave: int
    cluster_id: str | None
    manifest: str
    inputs: tuple[str, ...]

    def spec(self) -> AppSpec:
        return AppSpec(self.name, self.path, self.destination, self.wave, self.cluster_id)


@dataclasses.dataclass(frozen=True)
class ApplicationChange:
    """An Application added, removed, or whose manifest or synced objects changed."""

    name: str
    wave: int
    destination: str
    cluster_id: str | None
    change: str
    created: tuple[ObjectRef, ...] = ()
    updated: tuple[ObjectRef, ...] = ()
    deleted: tuple[ObjectRef, ...] = ()


@dataclasses.dataclass(frozen=True)
class Restart:
    """A workload whose pods roll, and the ConfigMap names or images that moved in its pod template."""

    workload: ObjectRef
    application: str
    cluster_id: str | None
    configmaps: tuple[tuple[str, str], ...]
    images: tuple[tuple[str, str], ...]

    @property
    def descriptions_moved(self) -> bool:
        """Tell whether a description ConfigMap is among the moved ones."""
        prefixes = tuple(bases.DESCRIPTIONS_CONFIGMAP.values())
        return any(new.startswith(prefixes) for _, new in self.configmaps)

    def reason(self) -> str:
        parts = [_configmap_move(old, new) for old, new in self.configmaps]
        parts += [f"image {old} -> {new}" for old, new in self.images]
        return "; ".join(parts) or "pod template changed"


def _configmap_move(old: str, new: str) -> str:
    stem = _hash_stem(old)
    if stem != old and _hash_stem(new) == stem:
        return f"ConfigMap {stem}: hash {old.removeprefix(stem + '-')} -> {new.removeprefix(stem + '-')}"
    return f"ConfigMap {old} -> {new}"


@dataclasses.dataclass(frozen=True)
class Prune:
    """An object Argo CD deletes: gone from its Application, or its whole Application is removed."""

    object: ObjectRef
    application: str
    application_removed: bool
    replaced_by: str | None = None
    last: bool = False


@dataclasses.dataclass(frozen=True)
class DiffReport:
    """Everything ``diff`` found, ready for the text, Markdown and JSON formats."""

    base: str
    topology: topology.ContinuumChanges
    applications: tuple[ApplicationChange, ...]
    restarts: tuple[Restart, ...]
    prunes: tuple[Prune, ...]
    bootstrap: tuple[str, ...]
    order_changed: bool
    graph: str | None

    def __bool__(self) -> bool:
        return bool(self.topology.files)

    def as_dict(self) -> dict[str, Any]:
        return {
            "base": self.base,
            "changed": bool(self),
            **self.topology.as_dict(),
            "applications": [dataclasses.asdict(change) for change in self.applications],
            "restarts": [dataclasses.asdict(restart) | {"reason": restart.reason()} for restart in self.restarts],
            "prunes": [dataclasses.asdict(prune) for prune in self.prunes],
            "bootstrap": list(self.bootstrap),
            "order_changed": self.order_changed,
            "graph": self.graph,
        }


def run_diff(options: DiffOptions) -> DiffReport:
    """Compare a fresh render of ``options.repo`` with its outputs at ``options.base``.

    Outside a Git repository the outputs on disk stand in for the committed ones.
    """
    inputs = read_inputs(options.repo, options.overrides, strict=options.strict)
    fresh = render_tree(inputs.fleet, inputs.settings)
    repository = inputs.repository
    if repository is not None:
        committed = git.read_committed(repository, options.base, layout.OUTPUT_DIRS)
        old_settings = git.read_committed_file(repository, options.base, layout.SETTINGS_FILE)
        base = options.base
    else:
        committed = files.read_outputs(options.repo)
        old_settings = None
        base = "files on disk"
    settings_path = options.repo / layout.SETTINGS_FILE
    new_settings = settings_path.read_bytes() if settings_path.is_file() else None
    if repository is None:
        old_settings = new_settings
    changes = files.compare(committed, fresh)
    summary = topology.summarize(changes, old_settings, new_settings)

    old_apps, new_apps = parse_applications(committed), parse_applications(fresh)
    affected = _affected(old_apps, new_apps, set(changes.paths))
    old_objects = _build(committed, [old_apps[name].path for name in affected if name in old_apps], options.jobs)
    new_objects = _build(fresh, [new_apps[name].path for name in affected if name in new_apps], options.jobs)
    app_changes, restarts, prunes = _compare_applications(affected, old_apps, new_apps, old_objects, new_objects, set(changes.paths))

    new_order = applications(inputs.fleet, inputs.settings)
    old_order = [app.spec() for app in old_apps.values() if not _is_app_of_apps(app)]
    order_changed = _order(old_order) != _order(new_order)
    return DiffReport(
        base=base,
        topology=summary,
        applications=app_changes,
        restarts=restarts,
        prunes=prunes,
        bootstrap=tuple(path for path in changes.paths if _is_bootstrap(path, old_apps, new_apps)),
        order_changed=order_changed,
        graph=mermaid(new_order) if order_changed else None,
    )


def parse_applications(outputs: Mapping[str, bytes]) -> dict[str, Application]:
    """Return the Argo CD Applications among ``outputs`` by name.

    A file that is not valid YAML is skipped: kustomize rejects it on its own, and the
    byte comparison already lists it.
    """
    found: dict[str, Application] = {}
    prefix = layout.ARGOCD_DIR + "/"
    for path, content in sorted(outputs.items()):
        if not path.startswith(prefix) or not path.endswith(layout.YAML_SUFFIXES):
            continue
        try:
            documents = list(yaml.load_all(content, Loader=_Loader))
        except yaml.YAMLError:
            continue
        for document in documents:
            application = _application(path, document)
            if application is not None:
                found[application.name] = application
    return found


def _application(manifest: str, document: object) -> Application | None:
    if not isinstance(document, dict) or document.get("kind") != "Application" or not str(document.get("apiVersion", "")).startswith("argoproj.io/"):
        return None
    metadata = document.get("metadata") or {}
    spec = document.get("spec") or {}
    source = spec.get("source") or {}
    annotations = metadata.get("annotations") or {}
    path = posixpath.normpath(str(source.get("path", ".")))
    inputs = [path]
    for entry in str(annotations.get(GENERATE_PATHS, "")).split(";"):
        entry = entry.strip()
        if entry and entry != ".":
            inputs.append(entry.lstrip("/") if entry.startswith("/") else posixpath.normpath(posixpath.join(path, entry)))
    try:
        wave = int(annotations.get(SYNC_WAVE, 0))
    except (TypeError, ValueError):
        wave = 0
    return Application(
        name=str(metadata.get("name", "")),
        path=path,
        destination=str((spec.get("destination") or {}).get("name") or (spec.get("destination") or {}).get("server", "")),
        wave=wave,
        cluster_id=(metadata.get("labels") or {}).get(layout.CLUSTER_LABEL),
        manifest=manifest,
        inputs=tuple(inputs),
    )


def _is_app_of_apps(application: Application) -> bool:
    return _under(application.path, layout.ARGOCD_DIR)


def _is_bootstrap(path: str, old_apps: Mapping[str, Application], new_apps: Mapping[str, Application]) -> bool:
    """Tell whether ``path`` is under argocd/ but synced by no Application, so applied by hand."""
    if not _under(path, layout.ARGOCD_DIR):
        return False
    return not any(_under(path, app.path) for app in (*old_apps.values(), *new_apps.values()))


def _affected(old_apps: Mapping[str, Application], new_apps: Mapping[str, Application], changed: set[str]) -> list[str]:
    """Return the Applications whose manifest or inputs changed, by name."""
    names = []
    for name in sorted(old_apps.keys() | new_apps.keys()):
        sides = [app for app in (old_apps.get(name), new_apps.get(name)) if app is not None]
        manifests = {app.manifest for app in sides}
        inputs = {entry for app in sides for entry in app.inputs}
        if len(sides) == 1 or manifests & changed or any(_under(path, entry) for path in changed for entry in inputs):
            names.append(name)
    return names


def _build(outputs: Mapping[str, bytes], paths: Iterable[str], jobs: int | None) -> dict[str, dict[ObjectRef, dict[str, Any]]]:
    """Build each kustomization in ``paths`` from ``outputs`` and return its objects by reference."""
    # NOTE: an Application whose path has no kustomization.yaml (plain manifests) is not
    # built, so its objects, restarts and prunes are missing from the report.
    directories = sorted({path for path in paths if f"{path}/kustomization.yaml" in outputs})
    if not directories:
        return {}
    with files.stage(outputs) as staging:
        built = kustomize.build_all(Path(staging), directories, jobs=jobs)
    objects: dict[str, dict[ObjectRef, dict[str, Any]]] = {}
    for directory, output in built.items():
        by_ref = {}
        for document in yaml.load_all(output, Loader=_Loader):
            if isinstance(document, dict) and document.get("kind"):
                metadata = document.get("metadata") or {}
                by_ref[ObjectRef(str(document["kind"]), str(metadata.get("namespace") or ""), str(metadata.get("name") or ""))] = document
        objects[directory] = by_ref
    return objects


def _compare_applications(
    names: list[str],
    old_apps: Mapping[str, Application],
    new_apps: Mapping[str, Application],
    old_objects: Mapping[str, Mapping[ObjectRef, dict[str, Any]]],
    new_objects: Mapping[str, Mapping[ObjectRef, dict[str, Any]]],
    changed: set[str],
) -> tuple[tuple[ApplicationChange, ...], tuple[Restart, ...], tuple[Prune, ...]]:
    app_changes, restarts, prunes = [], [], []
    for name in names:
        old, new = old_apps.get(name), new_apps.get(name)
        shown = new or old
        assert shown is not None
        before = old_objects.get(old.path, {}) if old else {}
        after = new_objects.get(new.path, {}) if new else {}
        created = tuple(sorted(after.keys() - before.keys()))
        deleted = tuple(sorted(before.keys() - after.keys()))
        updated = tuple(sorted(ref for ref in before.keys() & after.keys() if before[ref] != after[ref]))
        if old is None:
            change = ADDED
        elif new is None:
            change = REMOVED
        else:
            change = UPDATED
        if change == UPDATED and not (created or deleted or updated) and not {old.manifest, new.manifest} & changed:
            continue
        app_changes.append(ApplicationChange(name, shown.wave, shown.destination, shown.cluster_id, change, created, updated, deleted))
        restarts += [restart for ref in updated if (restart := _restart(ref, name, before[ref], after[ref])) is not None]
        prunes += [_prune(ref, name, before[ref], created, new is None) for ref in deleted]
    app_changes.sort(key=lambda change: (change.wave, change.name))
    return tuple(app_changes), tuple(restarts), tuple(prunes)


def _restart(ref: ObjectRef, application: str, before: dict[str, Any], after: dict[str, Any]) -> Restart | None:
    """Return the restart of a workload whose pod template changed, or None for any other object."""
    if ref.kind not in WORKLOAD_KINDS:
        return None
    old_template = (before.get("spec") or {}).get("template") or {}
    new_template = (after.get("spec") or {}).get("template") or {}
    if old_template == new_template:
        return None
    return Restart(
        workload=ref,
        application=application,
        cluster_id=((after.get("metadata") or {}).get("labels") or {}).get(layout.CLUSTER_LABEL),
        configmaps=_moved(_configmap_refs(old_template), _configmap_refs(new_template)),
        images=_moved(_images(old_template), _images(new_template)),
    )


def _moved(before: Mapping[str, str], after: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """Return the distinct (old, new) values of the keys present on both sides whose value changed."""
    return tuple(sorted({(before[key], after[key]) for key in before.keys() & after.keys() if before[key] != after[key]}))


def _configmap_refs(template: Mapping[str, Any]) -> dict[str, str]:
    """Return the ConfigMap names a pod template references, keyed by where it references them."""
    spec = template.get("spec") or {}
    refs = {}
    for volume in spec.get("volumes") or []:
        if volume.get("configMap"):
            refs[f"volume {volume.get('name')}"] = volume["configMap"].get("name", "")
        for index, source in enumerate((volume.get("projected") or {}).get("sources") or []):
            if source.get("configMap"):
                refs[f"volume {volume.get('name')} source {index}"] = source["configMap"].get("name", "")
    for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        for index, env_from in enumerate(container.get("envFrom") or []):
            if env_from.get("configMapRef"):
                refs[f"container {container.get('name')} envFrom {index}"] = env_from["configMapRef"].get("name", "")
        for variable in container.get("env") or []:
            key_ref = (variable.get("valueFrom") or {}).get("configMapKeyRef")
            if key_ref:
                refs[f"container {container.get('name')} env {variable.get('name')}"] = key_ref.get("name", "")
    return refs


def _images(template: Mapping[str, Any]) -> dict[str, str]:
    spec = template.get("spec") or {}
    return {str(container.get("name")): str(container.get("image")) for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]}


def _prune(ref: ObjectRef, application: str, before: Mapping[str, Any], created: tuple[ObjectRef, ...], removed: bool) -> Prune:
    """Describe the deletion of ``ref``; a new ConfigMap that differs only in its hash suffix replaces it."""
    annotations = (before.get("metadata") or {}).get("annotations") or {}
    replaced_by = None
    if ref.kind == "ConfigMap":
        stem = _hash_stem(ref.name)
        replaced_by = next((new.name for new in created if new.kind == ref.kind and new.namespace == ref.namespace and _hash_stem(new.name) == stem), None)
    return Prune(ref, application, removed, replaced_by, "PruneLast=true" in str(annotations.get(SYNC_OPTIONS, "")))


def _hash_stem(name: str) -> str:
    """Return ``name`` without the ``-<10 characters>`` suffix kustomize's name hash adds."""
    stem, _, suffix = name.rpartition("-")
    return stem if len(suffix) == 10 and suffix.isalnum() else name


def _order(specs: Iterable[AppSpec]) -> set[tuple[str, int, str, str | None]]:
    return {(spec.name, spec.wave, spec.destination, spec.cluster_id) for spec in specs}


def _under(path: str, folder: str) -> bool:
    return folder in (".", "") or path == folder or path.startswith(folder + "/")
