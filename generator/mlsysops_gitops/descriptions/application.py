"""Application descriptions: ``descriptions/applications/<name>.yaml``.

Each file contains one top-level key ``MLSysOpsApplication`` whose value becomes the body
of an ``MLSysOpsApp`` object (``mlsysops.eu/v1``). The model follows that CRD's schema,
field names included: the CRD is structural, so the API server silently drops a field
it does not know, such as the camelCase ``clusterPlacement`` of some framework
examples, and rejects a component without ``metadata``. Unknown fields are therefore
errors here, with the CRD's spelling as a hint.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, conint

from mlsysops_gitops import layout
from mlsysops_gitops.descriptions import entries, rules
from mlsysops_gitops.descriptions.yamlfile import Document, field_path, read_document, type_phrase
from mlsysops_gitops.errors import Problem

if TYPE_CHECKING:
    from mlsysops_gitops.descriptions.reader import Fleet

APPLICATIONS_DIR = f"{layout.DESCRIPTIONS_DIR}/applications"
KIND = "MLSysOpsApplication"

ContinuumLayer = Literal["cloud", "far_edge", "edge_infrastructure", "edge", "*"]
NodeType = Literal["cloud", "far_edge", "edge_infrastructure", "edge"]
Relation = Literal["lower_or_equal", "greater_or_equal", "equal", "lower_than", "greater_than"]
PortNumber = conint(ge=1, le=65535)


class Spec(BaseModel):
    """Base of the application models: strict types, no field the CRD does not define."""

    model_config = ConfigDict(strict=True, extra="forbid")


class Location(Spec):
    continent: list[Literal["Europe", "Asia"]] | None = None
    country: list[Literal["el", "it", "fr", "nl", "ie", "pt", "dk", "il"]] | None = None
    city: list[Literal["volos", "athens", "rende", "milan", "lille", "delft", "dublin", "aveiro", "porto", "aarhus", "jerusalem"]] | None = None


class ClusterPlacement(Spec):
    cluster_id: list[str] | None = None
    instances: int | None = None
    location: Location | None = None
    cloud_provider: Literal["private", "aws", "microsoft_azure", "gcp"] | None = None
    accelerators: list[Literal["gpu", "fpga", "tpu"]] | None = None
    node_types: list[NodeType] | None = None


class Scaling(Spec):
    scaling_mode: Literal["manual", "auto"] | None = None
    instances: int | None = None
    scaling_criteria: Literal[
        "min_cpu_utilization",
        "max_cpu_utilization",
        "min_memory_percent",
        "max_memory_percent",
        "min_requests_per_sec",
        "max_request_per_sec",
        "min_number_of_instances",
        "max_number_of_instances",
    ] | None = None


class NodePlacement(Spec):
    continuum_layer: list[ContinuumLayer] | None = None
    scaling: Scaling | None = None
    mobile: bool | None = None
    labels: list[str] | None = None
    node: str | None = None


class SingleNode(NodePlacement):
    components: list[str] | None = None


class ComponentMetadata(Spec):
    name: str | None = None
    uid: str | None = None


class FieldRef(Spec):
    field_path: str | None = None


class ValueFrom(Spec):
    field_ref: FieldRef | None = None


class EnvVar(Spec):
    name: str | None = None
    value: str | None = None
    value_from: ValueFrom | None = None


class Port(Spec):
    container_port: PortNumber | None = None  # type: ignore[valid-type]
    host_ip: str | None = None
    host_port: PortNumber | None = None  # type: ignore[valid-type]
    name: str | None = None
    protocol: Literal["UDP", "TCP", "SCTP"] | None = None


class Container(Spec):
    image: str | None = None
    command: list[str] | None = None
    image_pull_policy: Literal["Always", "Never", "IfNotPresent"] | None = None
    # NOTE: the nested objects below are checked for their type only, not field by field.
    acceleration_api: list[dict[str, Any]] | None = None
    platform_requirements: dict[str, Any] | None = None
    ports: list[Port] | None = None
    env: list[EnvVar] | None = None


class Component(Spec):
    metadata: ComponentMetadata
    containers: list[Container]
    node_placement: NodePlacement | None = None
    depends_on: list[str] | None = None
    runtime_configuration: dict[str, Any] | None = None
    sensors: list[dict[str, Any]] | None = None
    qos_metrics: list[dict[str, Any]] | None = None
    storage: dict[str, Any] | None = None
    data_sensitivity: bool | None = None
    data_criticality: Literal["low", "medium", "high"] | None = None
    external_component: bool | None = None
    external_access: bool | None = None
    host_network: bool | None = None
    runtime_class_name: Literal[
        "nvidia", "default", "kata-fc", "kata-dragon", "urunc", "crun", "lunatic", "nvidia-experimental", "spin", "wasmedge", "slight"
    ] | None = None
    restart_policy: Literal["Always", "OnFailure", "Never"] | None = None
    os: Literal["ubuntu", "kali", "zephyr"] | None = None
    node_type: Literal["virtualized", "native", "bare_metal"] | None = None
    container_runtime: Literal["containerd", "docker", "emb_serve"] | None = None


class Interaction(Spec):
    component_name1: str | None = None
    type: Literal["ingress", "egress"] | None = None
    component_name2: str | None = None
    interaction_criticality: Literal["low", "medium", "high"] | None = None
    interaction_metrics: list[dict[str, Any]] | None = None


class GlobalSatisfaction(Spec):
    threshold: float | None = None
    relation: Literal["greater_or_equal", "equal", "greater_than"] | None = None
    achievement_weights: list[dict[str, Any]] | None = None


class Application(Spec):
    """The body of one ``MLSysOpsApp``."""

    components: list[Component]
    name: str | None = None
    cluster_placement: ClusterPlacement | None = None
    single_node: list[SingleNode] | None = None
    component_interactions: list[Interaction] | None = None
    permitted_actions: list[
        Literal[
            "component_relocation",
            "traffic_redirection",
            "change_container_image",
            "change_container_runtime_class",
            "change_container_cpu_set",
            "change_container_resource_requirements",
            "acceleration",
            "*",
        ]
    ] | None = None
    global_satisfaction: GlobalSatisfaction | None = None


@dataclasses.dataclass(frozen=True)
class ApplicationFile:
    """One validated application description."""

    name: str
    path: str
    body: dict[str, Any]
    spec: Application
    document: Document = dataclasses.field(repr=False, compare=False)

    def problem(self, loc: tuple[str | int, ...], message: str) -> Problem:
        line, column = self.document.locate((KIND, *loc))
        return Problem(self.path, line, column, KIND, field_path(loc), message)


def list_application_files(repo: Path) -> list[Path]:
    directory = repo / APPLICATIONS_DIR
    if not directory.is_dir():
        return []
    found = [directory / entry.name for entry in os.scandir(directory) if entry.is_file() and entry.name.endswith(layout.YAML_SUFFIXES) and not entry.name.startswith(".")]
    return sorted(found, key=lambda path: path.name)


def read_applications(repo: Path, fleet: Fleet) -> tuple[list[ApplicationFile], list[Problem]]:
    """Read, validate and cross-check every application description against ``fleet``."""
    problems: list[Problem] = []
    applications: dict[str, ApplicationFile] = {}
    for path in list_application_files(repo):
        relative = f"{APPLICATIONS_DIR}/{path.name}"
        refused = entries.check_entry(repo, str(path), relative)
        if refused is not None:
            problems.append(refused)
            continue
        application = _read_one(path, relative, problems)
        if application is None:
            continue
        if application.name in applications:
            problems.append(Problem(relative, message=f"{applications[application.name].path} describes application {application.name!r} too; keep one"))
            continue
        applications[application.name] = application
        problems += check_references(application, fleet)
    return [applications[name] for name in sorted(applications)], problems


def _read_one(path: Path, relative: str, problems: list[Problem]) -> ApplicationFile | None:
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
    if not isinstance(data, dict) or list(data) != [KIND]:
        keys = ", ".join(map(str, data)) if isinstance(data, dict) else type_phrase(data)
        problems.append(Problem(relative, 1, 1, message=f"expected one top-level key {KIND!r}, found {keys or 'nothing'}"))
        return None
    try:
        spec = Application.model_validate(data[KIND])
    except pydantic.ValidationError as error:
        for detail in error.errors(include_url=False):
            line, column = document.locate((KIND, *detail["loc"]))
            field = field_path(detail["loc"])
            problems.append(Problem(relative, line, column, KIND, field, _explain(detail)))
        return None

    name = path.name.rsplit(".", 1)[0]
    problem = rules.name_problem(name, what="application name (the file name)", pattern=_NAME, limit=rules.MAX_HOST_LENGTH)
    if problem:
        problems.append(Problem(relative, message=problem))
        return None
    if spec.name is not None and spec.name != name:
        line, column = document.locate((KIND, "name"))
        problems.append(Problem(relative, line, column, KIND, "name", f"name {spec.name!r} differs from the file name; rename the file to {spec.name}.yaml or set name to {name!r}"))
        return None
    return ApplicationFile(name, relative, data[KIND], spec, document)


_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
# Spellings of the framework's camelCase examples that the CRD writes differently.
_CRD_SPELLING = {"Component": "metadata", "Scaling": "scaling"}


def _snake(name: str) -> str:
    return _CRD_SPELLING.get(name) or re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def _explain(detail: dict[str, Any]) -> str:
    kind = detail["type"]
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        name = str(detail["loc"][-1])
        snake = _snake(name)
        hint = f"; the CRD spells it {snake!r}" if snake != name else ""
        return f"unknown field: the MLSysOpsApp CRD does not define it, so the API server would drop it{hint}"
    if kind == "literal_error":
        expected = detail.get("ctx", {}).get("expected", "")
        return f"invalid value {detail.get('input')!r}; expected one of {expected}"
    return f"{detail['msg'][0].lower()}{detail['msg'][1:]}, got {detail.get('input')!r}"


def check_references(application: ApplicationFile, fleet: Fleet) -> list[Problem]:
    """Check that the clusters, nodes and components an application names exist."""
    problems = []
    spec = application.spec
    cluster_of = {host: cluster_id for cluster_id in fleet.clusters for host in fleet.cluster_spec(cluster_id).nodes}
    placement = spec.cluster_placement.cluster_id if spec.cluster_placement and spec.cluster_placement.cluster_id is not None else None
    for index, cluster_id in enumerate(placement or []):
        if cluster_id not in fleet.clusters:
            problems.append(application.problem(("cluster_placement", "cluster_id", index), _unknown("cluster", cluster_id, list(fleet.clusters), layout.CLUSTERS_DIR)))

    def check_node(loc: tuple[str | int, ...], node: str | None) -> None:
        if node is None:
            return
        if node not in cluster_of:
            problems.append(application.problem(loc, _unknown("node", node, sorted(cluster_of), layout.NODES_DIR)))
        elif placement is not None and cluster_of[node] not in placement:
            problems.append(application.problem(loc, f"node {node!r} belongs to cluster {cluster_of[node]!r}, which cluster_placement.cluster_id does not list"))

    names = [component.metadata.name for component in spec.components]
    for index, component in enumerate(spec.components):
        if component.node_placement is not None:
            check_node(("components", index, "node_placement", "node"), component.node_placement.node)
        for position, dependency in enumerate(component.depends_on or []):
            if dependency not in names:
                problems.append(application.problem(("components", index, "depends_on", position), f"component {dependency!r} is not a component of this application"))
    for index, group in enumerate(spec.single_node or []):
        check_node(("single_node", index, "node"), group.node)
    for index, interaction in enumerate(spec.component_interactions or []):
        for field in ("component_name1", "component_name2"):
            value = getattr(interaction, field)
            if value is not None and value not in names:
                problems.append(application.problem(("component_interactions", index, field), f"component {value!r} is not a component of this application"))
    return problems


def _unknown(what: str, value: str, known: list[str], folder: str) -> str:
    close = difflib.get_close_matches(value, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f"; known {what}s: {', '.join(known) or 'none'}"
    return f"{what} {value!r} has no description in {folder}/{hint}"


__all__ = ["Application", "ApplicationFile", "read_applications", "APPLICATIONS_DIR", "KIND"]
