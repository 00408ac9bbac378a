#!/usr/bin/env python3
"""Measure ``mlsysops-gitops render`` on synthetic fleets against the floor of its work.

For each fleet size this script writes a Git repository of descriptions (one continuum,
20 to 200 clusters, 1.5 to 3.5 KB per node), then times, each in a fresh child process:

- the floor: read every description, parse it with PyYAML's C loader, write the bytes
  read into a new folder (render copies each description into its overlay verbatim);
- ``render --no-commit --no-verify`` and ``render --no-commit`` into empty outputs;
- ``kustomize build`` of every rendered kustomization, one after the other;
- a second render with nothing changed, and a render after one node changed.

It prints one table and the ratios the targets are stated in. Run it after
``pip install .`` from the repository root::

    python3 benchmarks/fleet.py                      # 1,000 to 10,000 nodes
    python3 benchmarks/fleet.py --sizes 1000,2000    # a quick run

Only the standard library, PyYAML and the installed package are needed.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml

DEFAULT_SIZES = (1_000, 2_000, 5_000, 10_000)
NODES_PER_CLUSTER = 50
MIN_CLUSTERS, MAX_CLUSTERS = 20, 200
SEED = 20_260_101
OUTPUT_DIRS = ("base", "overlays", "argocd")

# Targets at the largest size, as ratios.
TARGET_NO_VERIFY = 1.5  # render --no-verify / floor
TARGET_VERIFY = 1.5  # render / (floor + kustomize builds / cores)
TARGET_GROWTH = 2.2  # time at 10,000 nodes / time at 5,000
TARGET_NO_CHANGE = 0.10  # second render / first render
TARGET_ONE_NODE = 0.15  # render after one node changed / first render
TARGET_MEMORY_MB = 1024


# --- Synthetic fleet -------------------------------------------------------------------

LAYERS = ("cloud", "edge_infrastructure", "edge", "far_edge")
ACTIONS = ("set_power_cap", "traffic_redirection", "acceleration", "cpu_frequency", "gpu_frequency", "change_container_cpu_set", "change_container_image")
INTERFACES = ("4g", "5g", "wifi", "bluetooth", "lora", "zigbee", "ethernet")
RELATIONS = ("lower_or_qqual", "greater_or_equal", "equal", "lower_than", "greater_than")


def cluster_count(nodes: int) -> int:
    return max(MIN_CLUSTERS, min(MAX_CLUSTERS, nodes // NODES_PER_CLUSTER))


def _sensor(rng: random.Random) -> dict:
    """Return one sensor service, of a kind and model the MLSysOpsNode CRD lists."""
    kind = rng.choice(("camera", "temperature", "accelerometer", "barometer", "air_quality", "humidity"))
    common = {"protocol": rng.choice(("MQTT", "RTSP")), "endpoint": f"tcp://sensors.local:{rng.randint(1024, 65535)}/{kind}"}
    if kind == "camera":
        return {"camera": {"instances": rng.randint(1, 4), "model": rng.choice(("imx415", "imx219", "d455", "imx477", "picamera-v2")), "camera_type": rng.choice(("rgb", "depth", "infrared")), "framerate": rng.choice((15, 30, 60)), "supported_resolutions": ["1024x768", "4056x3040"][: rng.randint(1, 2)]}} | common
    if kind == "temperature":
        return {"temperature": {"instances": rng.randint(1, 3), "model": rng.choice(("sdc30", "ds18b20")), "measurement_min": -40.0, "measurement_max": 125.0, "measurement_unit": "celsius", "accuracy": 0.5, "sampling_frequency": 1.0}} | common
    if kind == "accelerometer":
        return {"accelerometer": {"model": "3038-smt", "measurement_min": -16.0, "measurement_max": 16.0, "measurement_unit": "m/s^2", "accuracy": 0.01, "sampling_frequency": 100.0}} | common
    if kind == "barometer":
        return {"barometer": {"model": "sb-100", "measurement_min": 30000.0, "measurement_max": 110000.0, "measurement_unit": "pa", "accuracy": 12.0, "sampling_frequency": 10.0}} | common
    if kind == "air_quality":
        return {"air_quality": {"model": "mq-135", "measurement_min": 10.0, "measurement_max": 1000.0, "measurement_unit": "ug/m^3", "accuracy": 5.0, "sampling_frequency": 0.5}} | common
    return {"humidity": {"model": "sht31", "measurement_min": 0.0, "measurement_max": 100.0, "measurement_unit": "percent", "accuracy": 2.0, "sampling_frequency": {"min": 0.1, "max": 10.0}}} | common


def _interface(rng: random.Random, index: int) -> dict:
    kind = rng.choice(INTERFACES)
    interface = {"connection_type": kind, "interface_name": f"{'eth' if kind == 'ethernet' else 'wlan'}{index}", "mode": rng.choice(("infrastructure", "adhoc")), "hardware_address": ":".join(f"{rng.randrange(256):02x}" for _ in range(6))}
    if kind != "ethernet":
        interface["range"] = float(rng.choice((10, 50, 100, 1000)))
        interface["pairing_info"] = {"ip_address": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}", "network_ssid": f"site-net-{rng.randrange(100):02d}"}
    return interface


def node_description(rng: random.Random, host: str, cluster_id: str) -> dict:
    """Return one node's MLSysOpsNode value: hardware, sensors, network and power."""
    layer = rng.choice(LAYERS)
    arm = layer in ("edge", "far_edge") and rng.random() < 0.7
    cpu = {
        "model": rng.choice(("Cortex-A72", "Carmel", "Neoverse-N1")) if arm else rng.choice(("Xeon Gold 6338", "EPYC 7543", "Core i7-12700")),
        "architecture": "arm64" if arm else "amd64",
        "cores": rng.choice((4, 8, 16, 32, 64)),
        "frequency": sorted(rng.sample(range(600_000_000, 3_600_000_001, 100_000_000), rng.randint(3, 12))),
        "performance_indicator": round(rng.uniform(20, 400), 1),
    }
    hardware: dict = {"cpu": cpu, "memory": rng.choice((4, 8, 16, 32, 64, 128, 256)), "disk": str(rng.choice((64, 128, 256, 512, 1024, 2048)))}
    if rng.random() < 0.3:
        hardware["gpu"] = {"model": rng.choice(("k80", "k40")), "memory": rng.choice((12, 24)), "instances": float(rng.randint(1, 4)), "performance_indicator": round(rng.uniform(100, 900), 1)}
    description: dict = {
        "name": host,
        "cluster_id": cluster_id,
        "datacenter_id": f"dc-{cluster_id}",
        "labels": [f"rack-{rng.randrange(40):02d}", f"zone-{rng.choice('abcd')}", layer],
        "continuum_layer": layer,
        "availability": rng.choice(("transient", "stable")),
        "mobile": layer == "far_edge" and rng.random() < 0.5,
        "location": [round(rng.uniform(-180, 180), 6), round(rng.uniform(-90, 90), 6)],
        "sensors": [_sensor(rng) for _ in range(rng.randint(0, 3))],
        "permitted_actions": sorted(rng.sample(ACTIONS, rng.randint(1, len(ACTIONS)))),
        "distributed_storage_service": {"member": rng.random() < 0.5, "available_space": float(rng.choice((50, 100, 500)))},
        "environment": {"node_type": rng.choice(("virtualized", "native", "bare_metal")), "os": "ubuntu", "container_runtime": ["containerd", "docker"][: rng.randint(1, 2)]},
        "acceleration_api": [{"call_name": "image_inference", "supported_platforms": [{"name": "cpu", "suported_frameworks": ["pytorch", "tensorflow"]}, *([{"name": "gpu", "suported_frameworks": ["pytorch"]}] if "gpu" in hardware else [])]}],
        "hardware": hardware,
        "network_resources": {
            "basic_interface": {"name": rng.choice(INTERFACES), "interface_name": "eth0", "application_traffic_permission": rng.random() < 0.5},
            "redirection_interface": [_interface(rng, index + 1) for index in range(rng.randint(0, 3))],
        },
        "power": {
            "target": {
                "consumption": {"value": float(rng.randint(10, 500)), "relation": rng.choice(RELATIONS), "measurement_unit": "wh"},
                "cost": {"value": round(rng.uniform(0.05, 0.4), 3), "measurement_unit": "kwh", "relation": rng.choice(RELATIONS)},
                "co2_emission": {"value": round(rng.uniform(0.1, 0.9), 3), "measurement_unit": "kt/kwh", "relation": rng.choice(RELATIONS)},
            },
            "max_consumption": {"value": float(rng.randint(5, 800)), "measurement_unit": "w"},
            "grid": rng.random() < 0.8,
            "battery": {"capacity": {"levels": [float(level) for level in range(0, 101, rng.choice((20, 25, 50)))], "measurement_unit": "wh"}},
        },
    }
    return description


def _dump(kind: str, value: dict) -> str:
    return yaml.dump({kind: value}, Dumper=yaml.CSafeDumper, sort_keys=False, default_flow_style=False, width=100)


def write_fleet(repo: Path, nodes: int) -> None:
    """Write a repository with ``nodes`` node descriptions spread over its clusters."""
    rng = random.Random(SEED + nodes)
    clusters = [f"site-{index:03d}" for index in range(cluster_count(nodes))]
    folders = {name: repo / "descriptions" / name for name in ("continuum", "clusters", "nodes")}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)

    members: dict[str, list[str]] = {cluster_id: [] for cluster_id in clusters}
    for index in range(nodes):
        cluster_id = clusters[index % len(clusters)]
        host = f"{cluster_id}-node-{len(members[cluster_id]):04d}"
        members[cluster_id].append(host)
        text = _dump("MLSysOpsNode", node_description(rng, host, cluster_id))
        (folders["nodes"] / f"{host}.yaml").write_text(text, encoding="utf-8")
    for cluster_id, hosts in members.items():
        cluster = {"name": f"{cluster_id}-master", "cluster_id": cluster_id, "datacenter_id": f"dc-{cluster_id}", "nodes": hosts}
        (folders["clusters"] / f"{cluster_id}-master.yaml").write_text(_dump("MLSysOpsCluster", cluster), encoding="utf-8")
    continuum = {"name": "mgmt-karmada", "continuum_id": "bench-continuum", "clusters": clusters}
    (folders["continuum"] / "mgmt-karmada.yaml").write_text(_dump("MLSysOpsContinuum", continuum), encoding="utf-8")
    (repo / "mlsysops-gitops.yaml").write_text(
        "karmada_host_ip: 192.0.2.10\nrepo_url: https://git.example.com/ops/continuum.git\ntarget_revision: main\n",
        encoding="utf-8",
    )
    subprocess.run(["git", "init", "--quiet", "--initial-branch=main", str(repo)], check=True)


# --- Measurements ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Run:
    """One child process: wall time, CPU time and peak memory, its own children included."""

    seconds: float
    cpu_seconds: float
    peak_mb: float


def run_child(argv: Sequence[str], cwd: Path | None = None) -> Run:
    """Run ``argv`` to completion; raise with its output when it fails."""
    with tempfile.TemporaryFile() as output:
        start = time.perf_counter()
        process = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=output, stderr=output)
        # wait4 reports the usage of this child and of the children it waited for, so a
        # render's peak covers its kustomize processes as well.
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            output.seek(0)
            raise RuntimeError(f"{' '.join(map(str, argv))} exited with {process.returncode}:\n{output.read().decode(errors='replace')}")
    return Run(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def best(runs: Sequence[Run]) -> Run:
    """Return the fastest run, with the largest peak memory of all: the least disturbed time."""
    fastest = min(runs, key=lambda run: run.seconds)
    return dataclasses.replace(fastest, peak_mb=max(run.peak_mb for run in runs))


def floor(repo: Path, out: Path) -> None:
    """Read and parse every description, and write the bytes read: the least a render does."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for folder in ("continuum", "clusters", "nodes"):
        source, target = repo / "descriptions" / folder, out / folder
        target.mkdir(parents=True)
        for name in sorted(os.listdir(source)):
            raw = (source / name).read_bytes()
            yaml.load(raw, Loader=loader)
            (target / name).write_bytes(raw)


def render_command(repo: Path, *options: str) -> list[str]:
    return [sys.executable, "-m", "mlsysops_gitops", "render", "--repo", str(repo), "--no-commit", "--quiet", *options]


def remove_outputs(repo: Path, *, cache: bool) -> None:
    for folder in OUTPUT_DIRS:
        shutil.rmtree(repo / folder, ignore_errors=True)
    if cache:
        shutil.rmtree(repo / ".git" / "mlsysops-gitops", ignore_errors=True)


def kustomization_dirs(repo: Path) -> list[str]:
    return sorted(path.parent.relative_to(repo).as_posix() for folder in OUTPUT_DIRS for path in (repo / folder).rglob("kustomization.yaml"))


def build_each(repo: Path, directories: Sequence[str]) -> Run:
    """Build every kustomization one after the other, as a sum of kustomize runs."""
    from mlsysops_gitops.verify.kustomize import kustomize_command

    command = kustomize_command()
    runs = [run_child([*command, directory], cwd=repo) for directory in directories]
    return Run(sum(run.seconds for run in runs), sum(run.cpu_seconds for run in runs), max(run.peak_mb for run in runs))


def change_one_node(repo: Path, round_: int) -> None:
    """Change one value of one node description, differently each round."""
    node = sorted((repo / "descriptions" / "nodes").iterdir())[0]
    lines = node.read_text(encoding="utf-8").splitlines(keepends=True)
    index = next(number for number, line in enumerate(lines) if line.strip().startswith("memory:"))
    indent = lines[index][: len(lines[index]) - len(lines[index].lstrip())]
    lines[index] = f"{indent}memory: {1000 + round_}\n"
    node.write_text("".join(lines), encoding="utf-8")


@dataclasses.dataclass(frozen=True)
class Result:
    """Every measurement at one fleet size."""

    nodes: int
    clusters: int
    kustomizations: int
    input_mb: float
    floor: Run
    no_verify: Run
    verified: Run
    builds: Run
    no_change: Run
    one_node: Run

    @property
    def peak_mb(self) -> float:
        return max(run.peak_mb for run in (self.no_verify, self.verified, self.no_change, self.one_node))

    def verify_floor(self, cores: int) -> float:
        """Return the floor of a verified render: the floor plus the builds spread over the cores."""
        return self.floor.seconds + self.builds.seconds / cores


def measure(workdir: Path, nodes: int, repeat: int, log: Callable[[str], None]) -> Result:
    """Write a fleet of ``nodes`` nodes and run every measurement on it ``repeat`` times."""
    repo = workdir / f"fleet-{nodes}"
    shutil.rmtree(repo, ignore_errors=True)
    write_fleet(repo, nodes)
    input_bytes = sum(path.stat().st_size for path in (repo / "descriptions").rglob("*.yaml"))
    log(f"{nodes} nodes: {input_bytes / 1e6:.1f} MB of descriptions in {repo}")

    floors = []
    for _ in range(repeat):
        out = workdir / "floor-out"
        shutil.rmtree(out, ignore_errors=True)
        floors.append(run_child([sys.executable, __file__, "--floor", str(repo), str(out)]))
    shutil.rmtree(workdir / "floor-out", ignore_errors=True)
    log(f"  floor {best(floors).seconds:.2f} s")

    no_verify = []
    for _ in range(repeat):
        remove_outputs(repo, cache=True)
        no_verify.append(run_child(render_command(repo, "--no-verify")))
    log(f"  render --no-verify {best(no_verify).seconds:.2f} s")

    verified = []
    for _ in range(repeat):
        remove_outputs(repo, cache=True)
        verified.append(run_child(render_command(repo)))
    log(f"  render {best(verified).seconds:.2f} s")

    directories = kustomization_dirs(repo)
    builds = best([build_each(repo, directories) for _ in range(repeat)])
    log(f"  {len(directories)} kustomize builds {builds.seconds:.2f} s")

    no_change = best([run_child(render_command(repo)) for _ in range(repeat)])
    log(f"  render, nothing changed {no_change.seconds:.2f} s")

    one_node = []
    for round_ in range(repeat):
        change_one_node(repo, round_)
        one_node.append(run_child(render_command(repo)))
    log(f"  render, one node changed {best(one_node).seconds:.2f} s")

    clusters = cluster_count(nodes)
    return Result(nodes, clusters, len(directories), input_bytes / 1e6, best(floors), best(no_verify), best(verified), builds, no_change, best(one_node))


# --- Report ----------------------------------------------------------------------------


def table(results: Sequence[Result], cores: int) -> str:
    """Return the measurements as a Markdown table: times in seconds, ratios in brackets."""
    header = (
        "| nodes | clusters | kustomizations | descriptions MB | floor s | render --no-verify s (/ floor) "
        "| kustomize builds s, sum | render s (/ floor + builds / cores) | nothing changed s (/ render) "
        "| one node changed s (/ render) | peak memory MB |"
    )
    lines = [header, "|" + "|".join(" ---: " for _ in range(header.count("|") - 1)) + "|"]
    for result in results:
        render = result.verified.seconds
        lines.append(
            f"| {result.nodes:,} | {result.clusters} | {result.kustomizations} | {result.input_mb:.1f} "
            f"| {result.floor.seconds:.2f} | {result.no_verify.seconds:.2f} ({result.no_verify.seconds / result.floor.seconds:.2f}x) "
            f"| {result.builds.seconds:.1f} | {render:.1f} ({render / result.verify_floor(cores):.2f}x) "
            f"| {result.no_change.seconds:.2f} ({result.no_change.seconds / render:.0%}) "
            f"| {result.one_node.seconds:.2f} ({result.one_node.seconds / render:.0%}) | {result.peak_mb:.0f} |"
        )
    return "\n".join(lines)


def targets(results: Sequence[Result], cores: int) -> list[tuple[bool, str]]:
    """Check the targets at the largest size; return (met, description) pairs."""
    largest = max(results, key=lambda result: result.nodes)
    render = largest.verified.seconds
    checks = [
        (largest.no_verify.seconds / largest.floor.seconds <= TARGET_NO_VERIFY,
         f"render --no-verify {largest.no_verify.seconds:.2f} s = {largest.no_verify.seconds / largest.floor.seconds:.2f}x the floor {largest.floor.seconds:.2f} s (target <= {TARGET_NO_VERIFY}x)"),
        (render / largest.verify_floor(cores) <= TARGET_VERIFY,
         f"render {render:.1f} s = {render / largest.verify_floor(cores):.2f}x floor + builds / {cores} cores = {largest.verify_floor(cores):.1f} s (target <= {TARGET_VERIFY}x)"),
        (largest.no_change.seconds / render <= TARGET_NO_CHANGE,
         f"nothing changed {largest.no_change.seconds:.2f} s = {largest.no_change.seconds / render:.1%} of a first render (target <= {TARGET_NO_CHANGE:.0%})"),
        (largest.one_node.seconds / render <= TARGET_ONE_NODE,
         f"one node changed {largest.one_node.seconds:.2f} s = {largest.one_node.seconds / render:.1%} of a first render (target <= {TARGET_ONE_NODE:.0%})"),
        (largest.peak_mb <= TARGET_MEMORY_MB, f"peak memory {largest.peak_mb:.0f} MB (target < {TARGET_MEMORY_MB} MB)"),
    ]
    by_size = {result.nodes: result for result in results}
    if 5_000 in by_size and 10_000 in by_size:
        small, large = by_size[5_000], by_size[10_000]
        for label, seconds in (("render --no-verify", lambda r: r.no_verify.seconds), ("render", lambda r: r.verified.seconds)):
            growth = seconds(large) / seconds(small)
            checks.append((growth <= TARGET_GROWTH, f"{label} at 10,000 nodes = {growth:.2f}x the time at 5,000 (target <= {TARGET_GROWTH}x)"))
    return checks


def machine() -> str:
    """Describe where the numbers come from: CPU, cores, Python, kustomize, load."""
    from mlsysops_gitops.verify.kustomize import kustomize_command

    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    command = kustomize_command()
    version = subprocess.run([command[0], "version", "--client"] if command[1] == "kustomize" else [command[0], "version"], capture_output=True, text=True, check=False).stdout
    kustomize = next((line.strip() for line in version.splitlines() if "ustomize" in line), version.strip().splitlines()[0] if version.strip() else "?")
    return (
        f"{model}, {len(os.sched_getaffinity(0))} cores; Python {sys.version.split()[0]}, PyYAML {yaml.__version__} "
        f"(C loader: {hasattr(yaml, 'CSafeLoader')}); {' '.join(Path(part).name for part in command)} ({kustomize}); "
        f"load average {os.getloadavg()[0]:.2f}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)), help="comma-separated node counts (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each measurement; the fastest counts (default: %(default)s)")
    parser.add_argument("--workdir", type=Path, help="folder for the fleets (default: a temporary folder, removed afterwards)")
    parser.add_argument("--floor", nargs=2, type=Path, metavar=("REPO", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.floor:
        floor(*args.floor)
        return 0

    sizes = sorted(int(size.replace("_", "")) for size in args.sizes.split(","))
    cores = len(os.sched_getaffinity(0))

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    log(machine())
    with contextlib.ExitStack() as stack:
        workdir = args.workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="mlsysops-fleet-")))
        workdir.mkdir(parents=True, exist_ok=True)
        results = [measure(workdir, size, args.repeat, log) for size in sizes]

    print(f"Machine: {machine()}\n")
    print(table(results, cores))
    print()
    checks = targets(results, cores)
    for met, description in checks:
        print(f"- {'met' if met else 'MISSED'}: {description}")
    return 0 if all(met for met, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
