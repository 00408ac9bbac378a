"""Find, parse and validate the description files of a repository.

``read_fleet`` is the one entry point: it reads every file under ``descriptions/``,
collects every problem of every file in one pass, and returns the validated fleet or
raises ``InputError`` with all of them.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from pathlib import Path

import pydantic

from mlsysops_gitops import layout
from mlsysops_gitops.descriptions import rules
from mlsysops_gitops.descriptions.models import KINDS, Cluster, Continuum, Description, Node
from mlsysops_gitops.descriptions.yamlfile import Document, read_document
from mlsysops_gitops.errors import InputError, Problem

# Folder of each kind, and the top-level key its files must hold.
FOLDERS = {
    layout.CONTINUUM_DIR: "MLSysOpsContinuum",
    layout.CLUSTERS_DIR: "MLSysOpsCluster",
    layout.NODES_DIR: "MLSysOpsNode",
}


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
        """Build a problem located at ``field`` (a dotted path inside the top-level key)."""
        loc: tuple = (self.kind, *(int(part) if part.isdigit() else part for part in field.split(".") if part))
        line, column = self.document.locate(loc)
        return Problem(self.path, line, column, self.kind, field, message, severity)


@dataclasses.dataclass(frozen=True)
class Fleet:
    """The validated continuum: one continuum file, its clusters and their nodes."""

    continuum: DescriptionFile
    clusters: dict[str, DescriptionFile]
    nodes: dict[str, DescriptionFile]

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


def list_description_files(repo: Path, folder: str) -> list[Path]:
    directory = repo / folder
    if not directory.is_dir():
        return []
    found = [
        directory / entry.name
        for entry in os.scandir(directory)
        if entry.is_file() and entry.name.endswith(layout.YAML_SUFFIXES) and not entry.name.startswith(".")
    ]
    return sorted(found, key=lambda path: path.name)


def read_fleet(repo: Path, *, strict: bool = False) -> tuple[Fleet, list[Problem]]:
    """Read and validate every description under ``repo``; return the fleet and its warnings.

    Raises:
        InputError: with every problem found, when any is an error.
    """
    problems: list[Problem] = []
    files: dict[str, list[DescriptionFile]] = {kind: [] for kind in FOLDERS.values()}
    for folder, kind in FOLDERS.items():
        for path in list_description_files(repo, folder):
            relative = f"{folder}/{path.name}"
            described = _read_one(path, relative, kind, strict, problems)
            if described is not None:
                files[kind].append(described)

    problems += rules.check_duplicate_hosts(repo, FOLDERS)
    fleet_problems, fleet = rules.check_fleet(
        files["MLSysOpsContinuum"], files["MLSysOpsCluster"], files["MLSysOpsNode"]
    )
    problems += fleet_problems
    errors = [problem for problem in problems if problem.severity == "error"]
    if errors or fleet is None:
        raise InputError(problems)
    return fleet, [problem for problem in problems if problem.severity != "error"]


def _read_one(path: Path, relative: str, kind: str, strict: bool, problems: list[Problem]) -> DescriptionFile | None:
    try:
        raw = path.read_bytes()
    except OSError as error:
        problems.append(Problem(relative, message=f"cannot read file: {error.strerror}"))
        return None
    document, found = read_document(relative, raw)
    problems += found
    if document is None:
        return None

    data = document.data
    if not isinstance(data, dict) or len(data) != 1:
        keys = ", ".join(map(str, data)) if isinstance(data, dict) else type(data).__name__
        problems.append(Problem(relative, 1, 1, message=f"expected one top-level key {kind!r}, found {keys or 'nothing'}"))
        return None
    (top_key,) = data
    if top_key != kind:
        line, column = document.locate((top_key,))
        problems.append(Problem(relative, line, column, message=f"top-level key {top_key!r} does not belong in {relative.rsplit('/', 1)[0]}/; expected {kind!r}"))
        return None

    spec = _validate(document, kind, data[kind], strict, problems)
    if spec is None:
        return None
    host = path.name.rsplit(".", 1)[0]
    return DescriptionFile(kind=kind, host=host, path=relative, text=document.text, spec=spec, document=document)


def _validate(document: Document, kind: str, value: object, strict: bool, problems: list[Problem]) -> Description | None:
    model = KINDS[kind]
    try:
        spec = model.model_validate(value)
    except pydantic.ValidationError as error:
        for detail in error.errors(include_url=False):
            loc = (kind, *detail["loc"])
            line, column = document.locate(loc)
            field = ".".join(str(part) for part in detail["loc"])
            problems.append(Problem(document.path, line, column, kind, field, _explain(detail)))
        return None
    problems += _unknown_fields(document, kind, spec, (kind,), strict)
    return spec


def _explain(detail: dict) -> str:
    kind = detail["type"]
    if kind == "missing":
        return "required field is missing"
    if kind == "literal_error":
        expected = detail.get("ctx", {}).get("expected", "")
        return f"invalid value {detail.get('input')!r}; expected one of {expected}"
    return f"{detail['msg'][0].lower()}{detail['msg'][1:]}, got {detail.get('input')!r}"


def _unknown_fields(document: Document, kind: str, spec: pydantic.BaseModel, loc: tuple, strict: bool) -> list[Problem]:
    found: list[Problem] = []
    known = sorted(type(spec).model_fields)
    for name in sorted(spec.model_extra or {}, key=str):
        line, column = document.locate((*loc, name))
        close = difflib.get_close_matches(str(name), known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; known fields: {', '.join(known)}"
        field = ".".join(str(part) for part in (*loc[1:], name))
        found.append(Problem(document.path, line, column, kind, field, f"unknown field{hint}", "error" if strict else "warning"))
    return found


__all__ = ["DescriptionFile", "Fleet", "read_fleet", "Cluster", "Continuum", "Node"]
