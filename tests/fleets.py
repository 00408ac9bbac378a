"""Synthetic fleets: valid description trees of any size, for tests and benchmarks.

``write_fleet`` writes ``descriptions/`` under a folder and returns what it wrote, so a
test can compare what each cluster receives with the exact text of each file. Output
depends only on the arguments: the same call writes the same bytes.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

LAYERS = ("cloud", "edge_infrastructure", "edge", "far_edge")
CAMERAS = ("imx415", "imx219", "d455", "imx477", "picamera-v2")
ACTIONS = ("traffic_redirection", "acceleration", "cpu_frequency", "gpu_frequency", "change_container_cpu_set")


@dataclasses.dataclass(frozen=True)
class SyntheticCluster:
    """One generated cluster: its Karmada name, the host of its cluster agent and its nodes."""

    cluster_id: str
    host: str
    nodes: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class SyntheticFleet:
    """What ``write_fleet`` wrote: the continuum host, the clusters and every file's text."""

    continuum_host: str
    clusters: tuple[SyntheticCluster, ...]
    texts: dict[str, str]

    def text(self, folder: str, host: str) -> str:
        """Return the text written to ``descriptions/<folder>/<host>.yaml``."""
        return self.texts[f"descriptions/{folder}/{host}.yaml"]


def write_fleet(
    root: Path,
    *,
    clusters: int = 3,
    nodes_per_cluster: int = 4,
    node_bytes: int | tuple[int, int] = 2048,
    continuum_id: str = "synthetic-continuum",
) -> SyntheticFleet:
    """Write a valid ``descriptions/`` tree under ``root`` and return what was written.

    Args:
        root: the repository root; ``descriptions/`` is created there.
        clusters: number of member clusters, named ``cluster-00``, ``cluster-01``...
        nodes_per_cluster: nodes in every cluster, named ``cluster-00-node-0000``...
        node_bytes: size of each node description in bytes, or a ``(min, max)`` range
            that sizes spread evenly over, node by node.
    """
    texts: dict[str, str] = {}
    generated = []
    for index in range(clusters):
        cluster_id = f"cluster-{index:02d}"
        nodes = tuple(f"{cluster_id}-node-{number:04d}" for number in range(nodes_per_cluster))
        host = f"{cluster_id}-master"
        generated.append(SyntheticCluster(cluster_id, host, nodes))
        texts[f"descriptions/clusters/{host}.yaml"] = _cluster_text(cluster_id, host, nodes)
        for number, node in enumerate(nodes):
            texts[f"descriptions/nodes/{node}.yaml"] = node_text(node, cluster_id, number, _size(node_bytes, number, nodes_per_cluster))
    continuum_host = "synthetic-karmada"
    cluster_lines = "".join(f"    - {cluster.cluster_id}\n" for cluster in generated)
    texts[f"descriptions/continuum/{continuum_host}.yaml"] = f"MLSysOpsContinuum:\n  name: {continuum_host}\n  continuum_id: {continuum_id}\n  clusters:\n{cluster_lines}"

    for relative, text in texts.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return SyntheticFleet(continuum_host, tuple(generated), texts)


def _size(node_bytes: int | tuple[int, int], number: int, count: int) -> int:
    if isinstance(node_bytes, int):
        return node_bytes
    low, high = node_bytes
    return low + (high - low) * number // max(1, count - 1)


def _cluster_text(cluster_id: str, host: str, nodes: tuple[str, ...]) -> str:
    node_lines = "".join(f"    - {node}\n" for node in nodes)
    return f"MLSysOpsCluster:\n  name: {host}\n  cluster_id: {cluster_id}\n  nodes:\n{node_lines}"


def node_text(host: str, cluster_id: str, number: int, size: int) -> str:
    """Return a node description of about ``size`` bytes (never less), shaped like real ones.

    Sensors fill the description up to the size, as on edge nodes with many devices.
    """
    actions = "".join(f"    - {action}\n" for action in ACTIONS[: 1 + number % len(ACTIONS)])
    text = (
        "MLSysOpsNode:\n"
        f"  name: {host}\n"
        f"  cluster_id: {cluster_id}\n"
        f"  continuum_layer: {LAYERS[number % len(LAYERS)]}\n"
        "  availability: stable\n"
        "  mobile: false\n"
        f"  location: [{37.9 + number % 100 / 1000:.3f}, {23.7 + number % 70 / 1000:.3f}]\n"
        "  permitted_actions:\n"
        f"{actions}"
        "  environment:\n"
        "    node_type: native\n"
        "    os: ubuntu\n"
        "    container_runtime:\n"
        "      - containerd\n"
        "  hardware:\n"
        "    cpu:\n"
        f"      cores: {2 + number % 15}\n"
        f"      architecture: {'arm64' if number % 3 == 0 else 'amd64'}\n"
        "      frequency:\n"
        "        - 1400000000\n"
        "        - 2200000000\n"
        f"    memory: {4 + number % 60}\n"
        f'    disk: "{120 + number % 900}"\n'
        "  network_resources:\n"
        "    basic_interface:\n"
        "      name: ethernet\n"
        "      interface_name: eth0\n"
        "  sensors:\n"
    )
    blocks = [text]
    length = len(text)
    sensor = 0
    while length < size:
        block = (
            "    - camera:\n"
            f"        model: {CAMERAS[sensor % len(CAMERAS)]}\n"
            "        camera_type: rgb\n"
            f"        framerate: {15 + sensor % 45}\n"
            "        supported_resolutions:\n"
            "          - 1024x768\n"
            "      protocol: RTSP\n"
            f"      endpoint: rtsp://{host}:8554/camera-{sensor}\n"
        )
        blocks.append(block)
        # Every character is ASCII, so the length in characters is the size in bytes.
        length += len(block)
        sensor += 1
    return "".join(blocks)
