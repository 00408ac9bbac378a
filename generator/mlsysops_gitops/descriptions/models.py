"""Pydantic models of the system descriptions, after the MLSysOps CRDs.

Each file holds one top-level key (``MLSysOpsContinuum``, ``MLSysOpsCluster``,
``MLSysOpsNode``) whose value is the ``spec`` of the matching CRD. Types are strict,
as the Kubernetes API server is: ``memory: "4"`` is not an integer.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class Description(BaseModel):
    """Base of every description model: strict types, unknown fields kept for warnings."""

    model_config = ConfigDict(strict=True, extra="allow", populate_by_name=True)


class Continuum(Description):
    """The whole continuum: its id and the Karmada member clusters it contains."""

    continuum_id: str
    clusters: list[str]
    name: str | None = None


class Cluster(Description):
    """One Karmada member cluster and the nodes registered in it."""

    cluster_id: str
    nodes: list[str]
    datacenter_id: str | None = None
    name: str | None = None


class Node(Description):
    """One machine that runs a node agent."""

    name: str | None = None
    cluster_id: str | None = None
    datacenter_id: str | None = None
    labels: list[str] | None = None
    continuum_layer: Literal["cloud", "edge_infrastructure", "edge", "far_edge"] | None = None
    availability: Literal["transient", "stable"] | None = None
    mobile: bool | None = None
    location: list[float] | None = None
    sensors: list[dict[str, Any]] | None = None
    permitted_actions: list[
        Literal[
            "set_power_cap",
            "traffic_redirection",
            "acceleration",
            "cpu_frequency",
            "gpu_frequency",
            "change_container_cpu_set",
            "change_container_image",
            "*",
        ]
    ] | None = None
    distributed_storage_service: dict[str, Any] | None = None
    environment: dict[str, Any] | None = None
    acceleration_api: list[dict[str, Any]] | None = None
    hardware: dict[str, Any] | None = None
    network_resources: dict[str, Any] | None = None
    power: dict[str, Any] | None = None


# Top-level key of each kind, and the model of its value.
KINDS: dict[str, type[Description]] = {
    "MLSysOpsContinuum": Continuum,
    "MLSysOpsCluster": Cluster,
    "MLSysOpsNode": Node,
}
