"""Find, parse and validate the description files of a repository.

``read_fleet`` is the one entry point: it reads every file under ``descriptions/``,
collects every problem of every file and of the rules across files in one pass, and
returns the validated fleet or raises ``InputError`` with all of them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from pathlib import Path

from mlsysops_gitops import layout
from mlsysops_gitops.descriptions import entries, rules
from mlsysops_gitops.descriptions.agent_files import AgentFiles
from mlsysops_gitops.descriptions.application import ApplicationFile
from mlsysops_gitops.descriptions.cache import DescriptionCache
from mlsysops_gitops.descriptions.extras import attach_extras
from mlsysops_gitops.descriptions.models import Cluster, Continuum, Description, Node
from mlsysops_gitops.descriptions.validation import EMPTY, validate_spec
from mlsysops_gitops.descriptions.yamlfile import Document, read_document, type_phrase
from mlsysops_gitops.errors import InputError, Problem
from mlsysops_gitops.gcpause import collector_paused
from mlsysops_gitops.progress import QUIET, Progress
from mlsysops_gitops.repository import last_render

# Folder of each kind, and the top-level key its files must hold.
FOLDERS = {
    layout.CONTINUUM_DIR: rules.CONTINUUM,
    layout.CLUSTERS_DIR: rules.CLUSTER,
    layout.NODES_DIR: rules.NODE,
}
_FOLDER_OF = {kind: folder for folder, kind in FOLDERS.items()}


@dataclasses.dataclass(frozen=True)
class DescriptionFile:
    """One validated description file."""

    kind: str
    host: str
    path: str
    text: str
    spec: Description
    document: Document = dataclasses.field(repr=False, compare=False)

    def problem(self, field: str, message: str, severity: str = "error") -> Problem:
        """Build a problem located at ``field``, a dotted path inside the top-level key (``nodes.0``)."""
        loc = tuple(int(part) if part.isdigit() else part for part in field.split(".") if part)
        outline = rules.Outline(self.kind, self.host, self.path, self.document)
        return dataclasses.replace(outline.problem(loc, message), severity=severity)


@dataclasses.dataclass(frozen=True)
class Fleet:
    """The validated continuum: one continuum file, its clusters and their nodes."""

    continuum: DescriptionFile
    clusters: dict[str, DescriptionFile]
    nodes: dict[str, DescriptionFile]
    # Read once the system descriptions hold, by descriptions/extras.py.
    agent_files: AgentFiles = dataclasses.field(default_factory=AgentFiles)
    applications: tuple[ApplicationFile, ...] = ()

    @property
    def continuum_spec(self) -> Continuum:
        assert isinstance(self.continuum.spec, Continuum)
        return self.continuum.spec

    def cluster_spec(self, cluster_id: str) -> Cluster:
        spec = self.clusters[cluster_id].spec
        assert isinstance(spec, Cluster)
        return spec

    def nodes_of(self, cluster_id: str) -> list[DescriptionFile]:
        """Return the node descriptions of a cluster, sorted by host name."""
        return [self.nodes[host] for host in sorted(self.cluster_spec(cluster_id).nodes)]


def read_fleet(repo: Path, *, strict: bool = False, progress: Progress = QUIET, cache_file: Path | None = None) -> tuple[Fleet, list[Problem]]:
    """Read and validate every description under ``repo``; return the fleet and its warnings.

    ``cache_file`` keeps the parsed values of each file (descriptions/cache.py), so that
    only files whose bytes changed since the last read are parsed again.

    Raises:
        InputError: with every problem found, warnings included, when any is an error.
    """
    if not (repo / layout.DESCRIPTIONS_DIR).is_dir():
        raise InputError([Problem(layout.DESCRIPTIONS_DIR, message=f"folder not found in {repo}; run in the GitOps repository's root or give --repo")])

    problems: list[Problem] = entries.unknown_entries(repo)
    outlines: list[rules.Outline] = []
    listed: list[tuple[str, str, Path]] = []
    for folder, kind in FOLDERS.items():
        paths, found = list_description_files(repo, folder)
        problems += found
        listed += [(folder, kind, path) for path in paths]
    contents = [_read_or_none(path) for _, _, path in progress.track("read", listed)]
    with collector_paused():
        cache = DescriptionCache(cache_file, last_render.code_fingerprint(), EMPTY) if cache_file is not None else None
        for (folder, kind, path), raw in progress.track("validate", list(zip(listed, contents))):
            outline, found = read_description(path, f"{folder}/{path.name}", kind, strict=strict, raw=raw, cache=cache)
            outlines.append(outline)
            problems += found
        if cache is not None:
            cache.save()
    problems += rules.check_fleet(outlines)

    if any(problem.severity == "error" for problem in problems):
        raise InputError(problems)
    fleet, found = attach_extras(repo, _fleet(outlines), strict=strict)
    problems += found
    if any(problem.severity == "error" for problem in problems):
        raise InputError(problems)
    return fleet, problems


def list_description_files(repo: Path, folder: str) -> tuple[list[Path], list[Problem]]:
    """Return the description files of ``folder``, sorted by name, and the problems of the folder.

    Two files for one host (``x.yaml`` and ``x.yml``) are an error, so only the first is
    returned. Anything else in the folder is skipped with a warning.
    """
    directory = repo / folder
    if not directory.is_dir():
        return [], []
    found: list[Path] = []
    problems: list[Problem] = []
    by_host: dict[str, str] = {}
    for entry in sorted(os.scandir(directory), key=lambda entry: entry.name):
        relative = f"{folder}/{entry.name}"
        if entry.name.startswith("."):
            if entry.name.endswith(layout.YAML_SUFFIXES):
                problems.append(entries.hidden_yaml_warning(relative, folder))
            continue
        refused = entries.check_entry(repo, entry.path, relative) if entry.name.endswith(layout.YAML_SUFFIXES) else None
        if refused is not None:
            problems.append(refused)
            continue
        if not entry.name.endswith(layout.YAML_SUFFIXES) or not entry.is_file():
            problems.append(Problem(relative, message=f"not read: descriptions are <host>.yaml or <host>.yml files directly in {folder}/", severity="warning"))
            continue
        host = entry.name.rsplit(".", 1)[0]
        if host in by_host:
            problems.append(Problem(relative, 1, 1, FOLDERS[folder], "", f"two files for host {host!r}: {by_host[host]} and {entry.name}; keep one"))
            continue
        by_host[host] = entry.name
        found.append(Path(entry.path))
    return found, problems


def _read_or_none(path: Path) -> bytes | None:
    """Return the file's bytes, or None to let ``read_description`` report why it cannot be read."""
    with contextlib.suppress(OSError):
        return path.read_bytes()
    return None


def read_description(
    path: Path, relative: str, kind: str, *, strict: bool = False, raw: bytes | None = None, cache: DescriptionCache | None = None
) -> tuple[rules.Outline, list[Problem]]:
    """Read one file of ``kind`` (``raw``: its bytes, when read already); return its outline for the cross-file rules and its problems."""
    host = path.name.rsplit(".", 1)[0]
    outline = rules.Outline(kind, host, relative)
    try:
        raw = path.read_bytes() if raw is None else raw
    except OSError as error:
        return outline, [Problem(relative, kind=kind, message=f"cannot read file: {error.strerror}")]
    document = cache.document(relative, raw) if cache is not None else None
    if document is None:
        document, problems = read_document(relative, raw, kind=kind, empty=EMPTY)
        if document is None:
            return outline, problems
        if cache is not None:
            cache.store(raw, document)

    value, problem = _top_level_value(document, kind)
    if problem is not None:
        return dataclasses.replace(outline, document=document), [problem]
    raw_value = value if isinstance(value, dict) else {}
    outline = dataclasses.replace(outline, document=document, raw=raw_value)
    spec, problems = validate_spec(document, kind, value, strict=strict)
    if spec is None:
        return outline, problems
    described = DescriptionFile(kind=kind, host=host, path=relative, text=document.text, spec=spec, document=document)
    return dataclasses.replace(outline, described=described), problems


def _top_level_value(document: Document, kind: str) -> tuple[object, Problem | None]:
    """Return the value of the file's one top-level key, or the problem with the file's shape."""
    data = document.data
    folder = document.path.rsplit("/", 1)[0]

    def problem(line: int, column: int, message: str) -> tuple[object, Problem]:
        return None, Problem(document.path, line, column, kind, "", message)

    if not isinstance(data, dict):
        return problem(1, 1, f"expected a mapping with the one key {kind!r}, found {type_phrase(data)}")
    if kind in data and len(data) == 1:
        return data[kind], None
    if "apiVersion" in data or "kind" in data:
        return problem(1, 1, f"this is a Kubernetes resource; a description holds the CRD's fields under the one key {kind!r}")
    others = [key for key in data if key != kind]
    line, column = document.locate((others[0],))
    if others[0] in _FOLDER_OF:
        return problem(line, column, f"top-level key {others[0]!r} belongs in {_FOLDER_OF[others[0]]}/; files in {folder}/ hold {kind!r}")
    if kind in data:
        return problem(line, column, f"unexpected top-level key {others[0]!r}; a description holds the one key {kind!r}")
    return problem(line, column, f"top-level key {others[0]!r} is not {kind!r}; files in {folder}/ hold {kind!r}")


def _fleet(outlines: list[rules.Outline]) -> Fleet:
    described = [outline.described for outline in outlines if outline.described is not None]
    (continuum,) = (file for file in described if file.kind == rules.CONTINUUM)
    clusters = {file.spec.cluster_id: file for file in described if isinstance(file.spec, Cluster)}
    nodes = {file.host: file for file in described if isinstance(file.spec, Node)}
    return Fleet(continuum=continuum, clusters=dict(sorted(clusters.items())), nodes=dict(sorted(nodes.items())))


__all__ = ["DescriptionFile", "Fleet", "read_fleet", "Cluster", "Continuum", "Node"]
