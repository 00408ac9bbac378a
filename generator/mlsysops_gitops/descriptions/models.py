"""Pydantic models of the system descriptions, after the MLSysOps CRDs.

Each file has one top-level key (``MLSysOpsContinuum``, ``MLSysOpsCluster``,
``MLSysOpsNode``) whose value has the fields of the matching CRD's schema. Field names,
types, enum values and required fields follow the CRDs exactly, misspellings included
(``suported_frameworks``, ``lower_or_qqual``), because the agents read what the CRD
defines. Types are strict, as the Kubernetes API server is: ``memory: "4"`` is not an
integer. No field is nullable in the CRDs, so a YAML null is rejected everywhere (the
reader builds nulls as a value no field accepts); ``None`` below means "not given".
"""

from __future__ import annotations

import types
import typing
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema


class Description(BaseModel):
    """Base of every description model: strict types, unknown fields reported by pydantic."""

    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False, frozen=True)


# Enumerations shared by several fields.
Relation = Literal["lower_or_qqual", "greater_or_equal", "equal", "lower_than", "greater_than"]
EnergyUnit = Literal["wh", "kwh", "Mwh"]
InterfaceType = Literal["4g", "5g", "wifi", "bluetooth", "lora", "zigbee", "ethernet"]
ContinuumLayer = Literal["cloud", "edge_infrastructure", "edge", "far_edge"]
PermittedAction = Literal[
    "set_power_cap",
    "traffic_redirection",
    "acceleration",
    "cpu_frequency",
    "gpu_frequency",
    "change_container_cpu_set",
    "change_container_image",
    "*",
]


class Continuum(Description):
    """The whole continuum: its id and the Karmada member clusters it contains."""

    continuum_id: str = Field(description="Unique id of the continuum.")
    clusters: list[str] = Field(description="cluster_id of every Karmada member cluster in the continuum.")
    name: str | None = Field(None, description="Host running the continuum agent; equals the file name without .yaml. Not in the CRD.")


class Cluster(Description):
    """One Karmada member cluster and the nodes registered in it."""

    cluster_id: str = Field(description="Karmada member cluster name.")
    datacenter_id: str | None = Field(None, description="Unique id of the datacenter.")
    nodes: list[str] = Field(description="Host names of the cluster's nodes; each has a file in descriptions/nodes/.")
    name: str | None = Field(None, description="Host running the cluster agent; equals the file name without .yaml. Not in the CRD.")


# Sensors. Each item of ``sensors`` describes one sensor service and may name its device.
class Camera(Description):
    instances: int | None = Field(None, description="Number of identical cameras on the node.")
    model: Literal["imx415", "imx219", "d455", "imx477", "picamera-v2"] | None = None
    camera_type: str | None = None
    framerate: int | None = None
    supported_resolutions: list[Literal["1024x768", "4056x3040"]] | None = None


class Measurement(Description):
    """Fields every measuring sensor shares."""

    measurement_min: float | None = None
    measurement_max: float | None = None
    accuracy: float | None = None


class FrequencyRange(Description):
    min: float | None = None
    max: float | None = None


class Temperature(Measurement):
    instances: int | None = Field(None, description="Number of identical sensors on the node.")
    model: Literal["sdc30", "ds18b20"] | None = None
    measurement_unit: Literal["celsius", "fahrenheit"] | None = None
    sampling_frequency: float | None = None


class Accelerometer(Measurement):
    model: Literal["3038-smt"] | None = None
    measurement_unit: Literal["m/s^2"] | None = None
    sampling_frequency: float | None = None


class RangedSensor(Measurement):
    """Humidity, sound and CO2 sensors: free-form model and unit, a sampling frequency range."""

    model: str | None = None
    measurement_unit: str | None = None
    sampling_frequency: FrequencyRange | None = None


class Barometer(Measurement):
    model: Literal["sb-100"] | None = None
    measurement_unit: Literal["pa"] | None = Field(None, description="Pascal.")
    sampling_frequency: float | None = None


class AirQuality(Measurement):
    model: Literal["mq-135"] | None = None
    measurement_unit: Literal["ug/m^3"] | None = Field(None, description="Micrograms per cubic metre.")
    sampling_frequency: float | None = None


class Sensor(Description):
    camera: Camera | None = None
    temperature: Temperature | None = None
    accelerometer: Accelerometer | None = None
    humidity: RangedSensor | None = Field(None, description="Relative humidity sensor.")
    sound: RangedSensor | None = None
    co2: RangedSensor | None = None
    barometer: Barometer | None = None
    air_quality: AirQuality | None = None
    instances: float | None = None
    protocol: Literal["MQTT", "RTSP"] | None = Field(None, description="Protocol of the sensor service.")
    endpoint: str | None = Field(None, description="Where applications read the sensor's data.")


class DistributedStorageService(Description):
    member: bool | None = Field(None, description="Whether the node takes part in the distributed storage service.")
    available_space: float | None = Field(None, description="Space offered to the storage service, in GB.")


class Environment(Description):
    node_type: Literal["virtualized", "native", "bare_metal"] | None = Field(
        None, description="virtualized: a virtual machine; native: an operating system on the hardware; bare_metal: no operating system."
    )
    os: Literal["ubuntu", "kali", "zephyr"] | None = None
    container_runtime: list[Literal["containerd", "docker", "emb_serve"]] | None = None


class Platform(Description):
    name: Literal["cpu", "gpu", "fpga", "tpu"] | None = None
    # Spelled as in the CRD, which is what the agents read.
    suported_frameworks: list[Literal["pytorch", "tensorflow", "opencl"]] | None = None


class AccelerationApi(Description):
    call_name: Literal["calc_optical_flow", "image_inference"] = Field(description="Name of the API call, unique on the node.")
    supported_platforms: list[Platform]


class Cpu(Description):
    model: str | None = None
    architecture: Literal["amd64", "arm64"] | None = None
    cores: int | None = None
    frequency: list[float] | None = Field(None, description="Every frequency the CPU can run at, in Hz.")
    performance_indicator: float | None = Field(None, description="Processing capability score of the platform.")


class Mcu(Description):
    architecture: Literal["arm-M4"] | None = None
    flash: str | None = Field(None, description="Flash memory size.")
    cores: int | None = None
    frequency: float | None = None
    performance_indicator: float | None = None


class Gpu(Description):
    model: Literal["k80", "k40"] | None = None
    memory: int | None = None
    instances: float | None = None
    performance_indicator: float | None = None


class Fpga(Description):
    model: Literal["zcu102"] | None = None
    memory: int | None = None
    performance_indicator: float | None = None


class Hardware(Description):
    cpu: Cpu | None = None
    mcu: Mcu | None = Field(None, description="Microcontroller of a far-edge device.")
    memory: int | None = Field(None, description="Memory size in GB.")
    disk: str | None = Field(None, description="Local disk space in GB, as a string.")
    gpu: Gpu | None = None
    fpga: Fpga | None = None


class BasicInterface(Description):
    name: InterfaceType | None = Field(None, description="Interface for control traffic, and by default for application traffic.")
    range: float | None = Field(None, description="Communication range of a wireless interface.")
    interface_name: str | None = None
    application_traffic_permission: bool | None = Field(None, description="Whether application traffic may use this interface too.")


class PairingInfo(Description):
    ip_address: str | None = None
    network_ssid: str | None = Field(None, description="SSID or PAN ID of the network.")
    net_key: str | None = Field(None, description="Network password. Rejected here: descriptions are committed to Git.")


class RedirectionInterface(Description):
    connection_type: InterfaceType
    range: float | None = None
    interface_name: str | None = None
    mode: Literal["infrastructure", "adhoc"] | None = None
    hardware_address: str | None = None
    pairing_info: PairingInfo | None = None


class NetworkResources(Description):
    basic_interface: BasicInterface | None = None
    redirection_interface: list[RedirectionInterface] | None = Field(None, description="Interfaces application traffic may be redirected to.")


class Consumption(Description):
    value: float | None = None
    relation: Relation | None = None
    measurement_unit: EnergyUnit | None = None


class Cost(Description):
    value: float | None = Field(None, description="Cost per measurement_unit, in no particular currency.")
    measurement_unit: EnergyUnit | None = None
    relation: Relation | None = None


class Co2Emission(Description):
    value: float | None = None
    measurement_unit: Literal["kt/wh", "kt/kwh", "kt/Mwh"] | None = None
    relation: Relation | None = None


class PowerTarget(Description):
    consumption: Consumption | None = None
    cost: Cost | None = None
    co2_emission: Co2Emission | None = Field(None, description="CO2 emitted per unit of energy.")


class MaxConsumption(Description):
    value: float | None = None
    measurement_unit: Literal["w", "kw", "Mw"] | None = None


class Levels(Description):
    levels: list[float] | None = None
    measurement_unit: Literal["wh"] | None = None


class Renewable(Description):
    name: Literal["solar_panel"] | None = None
    # NOTE: the CRD indents production one level too deep, under name's schema, where
    # Kubernetes ignores it; it is accepted here as name's sibling, as clearly meant.
    production: Levels | None = None


class Battery(Description):
    capacity: Levels | None = None


class Power(Description):
    target: PowerTarget | None = Field(None, description="Target set by the node's owner.")
    max_consumption: MaxConsumption | None = None
    grid: bool | None = None
    renewable: list[Renewable] | None = None
    battery: Battery | None = None


class Node(Description):
    """One machine that runs a node agent."""

    name: str | None = Field(None, description="Host name of the node; equals the file name without .yaml.")
    labels: list[str] | None = Field(None, description="Labels used for filtering.")
    continuum_layer: ContinuumLayer
    cluster_id: str | None = Field(None, description="cluster_id of the cluster that lists this node.")
    datacenter_id: str | None = Field(None, description="Datacenter the node belongs to; without it the node is standalone, placed by location.")
    availability: Literal["transient", "stable"] | None = Field(None, description="transient for a node that may drop out, for example on battery.")
    mobile: bool | None = None
    location: list[float] | None = Field(None, description="Longitude and latitude of a fixed node, or of a mobile node's base station.")
    sensors: list[Sensor] | None = None
    permitted_actions: list[PermittedAction] | None = Field(None, description="Actions the MLSysOps agents may take on the node.")
    distributed_storage_service: DistributedStorageService | None = None
    environment: Environment
    acceleration_api: list[AccelerationApi] | None = Field(None, description="API calls, platforms and frameworks the node exposes for acceleration.")
    hardware: Hardware
    network_resources: NetworkResources | None = None
    power: Power | None = None


# Top-level key of each kind, and the model of its value.
KINDS: dict[str, type[Description]] = {
    "MLSysOpsContinuum": Continuum,
    "MLSysOpsCluster": Cluster,
    "MLSysOpsNode": Node,
}


def model_at(model: type[BaseModel], loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """Return the model that validates the mapping at ``loc`` below ``model``, if one does."""
    annotation: Any = model
    for part in loc:
        annotation = _without_none(annotation)
        if isinstance(part, int):
            if typing.get_origin(annotation) is not list:
                return None
            (annotation,) = typing.get_args(annotation)
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel) and part in annotation.model_fields:
            annotation = annotation.model_fields[part].annotation
        else:
            return None
    annotation = _without_none(annotation)
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _without_none(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (Union, types.UnionType):
        remaining = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(remaining) == 1:
            return remaining[0]
    return annotation


class _SchemaWithoutNull(GenerateJsonSchema):
    """JSON Schema as the CRDs define it: optional fields are omitted, never null."""

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        if schema.get("default", ...) is None:
            return self.generate_inner(schema["schema"])
        return super().default_schema(schema)


def file_schema(kind: str, model: type[BaseModel] | None = None) -> dict[str, Any]:
    """Return the JSON Schema of a whole description file of ``kind``: its one top-level key.

    ``model`` validates the key's value, by default the model of ``kind`` in ``KINDS``.
    """
    spec = (model or KINDS[kind]).model_json_schema(schema_generator=_SchemaWithoutNull, ref_template="#/$defs/{model}")
    definitions = spec.pop("$defs", {})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"{kind} description",
        "description": f"One MLSysOps {kind.removeprefix('MLSysOps').lower()} description, as read by mlsysops-gitops.",
        "type": "object",
        "properties": {kind: spec},
        "required": [kind],
        "additionalProperties": False,
        "$defs": definitions,
    }
