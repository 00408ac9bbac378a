#!/usr/bin/env python3
"""Compare validating 10,000 node descriptions with only parsing them with PyYAML's C loader.

The target: ``read_fleet`` (read, parse, check YAML, validate against the models, apply
the rules across files) takes at most twice as long as ``yaml.load`` with
``yaml.CSafeLoader`` on the same node files. The parse is timed on bytes already in
memory, while the validation reads the files itself (from the page cache after the
first round), so the comparison is tilted against validation. Each figure is the best of
``--rounds`` runs in this process, in CPU time: both sides are CPU-bound, and CPU time
stays comparable when other processes load the machine, which wall time does not. Run from the repository root after ``pip install .``::

    python3 benchmarks/validate.py                # 10,000 nodes in 100 clusters
    python3 benchmarks/validate.py --nodes 2000   # a quick run
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from mlsysops_gitops.descriptions.reader import read_fleet

NODES_PER_CLUSTER = 100
TARGET_RATIO = 2.0
LAYERS = ("cloud", "edge_infrastructure", "edge", "far_edge")
CAMERAS = ("imx415", "imx219", "d455", "imx477", "picamera-v2")


def node_text(host: str, cluster_id: str, number: int) -> str:
    """Return a node description shaped like real ones: 30 to 60 lines, some with sensors."""
    sensors = "".join(
        f"    - camera:\n        model: {CAMERAS[(number + index) % len(CAMERAS)]}\n        camera_type: rgb\n"
        f"        framerate: {15 + index * 15}\n        supported_resolutions:\n          - 1024x768\n"
        f"      protocol: RTSP\n      endpoint: rtsp://{host}:8554/camera-{index}\n"
        for index in range(number % 4)
    )
    return (
        "MLSysOpsNode:\n"
        f"  name: {host}\n"
        f"  cluster_id: {cluster_id}\n"
        f"  continuum_layer: {LAYERS[number % len(LAYERS)]}\n"
        "  availability: stable\n"
        "  mobile: false\n"
        f"  location: [{23.7 + number % 70 / 1000:.3f}, {37.9 + number % 100 / 1000:.3f}]\n"
        "  permitted_actions:\n    - cpu_frequency\n    - change_container_image\n"
        "  environment:\n    node_type: native\n    os: ubuntu\n    container_runtime:\n      - containerd\n"
        "  hardware:\n    cpu:\n"
        f"      model: cortex-a76\n      architecture: arm64\n      cores: {2 + number % 15}\n"
        "      frequency: [1500000000, 2400000000]\n      performance_indicator: 70\n"
        f"    memory: {4 + number % 60}\n    disk: \"{120 + number % 900}\"\n"
        "  network_resources:\n    basic_interface:\n      name: ethernet\n      interface_name: eth0\n"
        "      application_traffic_permission: true\n"
        + ("  sensors:\n" + sensors if sensors else "")
    )


def write_repo(root: Path, nodes: int) -> list[Path]:
    """Write a valid ``descriptions/`` tree with ``nodes`` nodes; return the node files."""
    clusters = max(1, nodes // NODES_PER_CLUSTER)
    node_paths = []
    for folder in ("continuum", "clusters", "nodes"):
        (root / "descriptions" / folder).mkdir(parents=True)
    for cluster in range(clusters):
        cluster_id = f"cluster-{cluster:03d}"
        hosts = [f"{cluster_id}-node-{number:05d}" for number in range(cluster, nodes, clusters)]
        listed = "".join(f"    - {host}\n" for host in hosts)
        (root / f"descriptions/clusters/{cluster_id}-master.yaml").write_text(f"MLSysOpsCluster:\n  cluster_id: {cluster_id}\n  nodes:\n{listed}")
        for host in hosts:
            path = root / f"descriptions/nodes/{host}.yaml"
            path.write_text(node_text(host, cluster_id, int(host.rsplit("-", 1)[1])))
            node_paths.append(path)
    listed = "".join(f"    - cluster-{cluster:03d}\n" for cluster in range(clusters))
    (root / "descriptions/continuum/karmada-host.yaml").write_text(f"MLSysOpsContinuum:\n  continuum_id: bench\n  clusters:\n{listed}")
    return node_paths


def _without_gc(work: Callable[[], object]) -> object:
    gc.disable()
    try:
        return work()
    finally:
        gc.enable()


def best_of(rounds: int, *works: Callable[[], object]) -> list[float]:
    """Return the best time of each of ``works``, run in turns so that machine load hits both alike."""
    best = [float("inf")] * len(works)
    for _ in range(rounds):
        for index, work in enumerate(works):
            start = time.process_time()
            work()
            best[index] = min(best[index], time.process_time() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=10_000, help="number of node descriptions (default: 10000)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each measurement; the best counts (default: 3)")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="mlsysops-validate-bench-") as folder:
        repo = Path(folder)
        node_paths = write_repo(repo, arguments.nodes)
        contents = [path.read_bytes() for path in node_paths]
        size = sum(map(len, contents))

        parse, parse_without_gc, validate = best_of(
            arguments.rounds,
            lambda: [yaml.load(raw, Loader=yaml.CSafeLoader) for raw in contents],
            lambda: _without_gc(lambda: [yaml.load(raw, Loader=yaml.CSafeLoader) for raw in contents]),
            lambda: read_fleet(repo),
        )

    ratio = validate / parse
    strict_ratio = validate / parse_without_gc
    print(f"node descriptions      {len(contents):>10,}  ({size / len(contents):,.0f} bytes each on average)")
    print(f"yaml.load CSafeLoader  {parse:>10.3f} s CPU  ({parse / len(contents) * 1e6:,.0f} us per file, bytes in memory)")
    print(f"  collector paused     {parse_without_gc:>10.3f} s CPU  (as read_fleet pauses it while parsing)")
    print(f"read_fleet             {validate:>10.3f} s CPU  ({validate / len(contents) * 1e6:,.0f} us per file, files read from disk)")
    print(f"ratio                  {ratio:>10.2f}    (target: at most {TARGET_RATIO:.1f}; {strict_ratio:.2f} against the parse without the collector)")
    raise SystemExit(0 if ratio <= TARGET_RATIO else 1)


if __name__ == "__main__":
    main()
