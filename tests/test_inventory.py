"""Descriptions from an Ansible inventory: what they contain, that they render, what is rejected."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml

from conftest import UPSTREAM, write_tree
from kube import build, by_kind

INVENTORY = UPSTREAM / "inventory.yaml"
EXPECTED = [
    "clusters/mls-test-manage.yaml",
    "continuum/mls-test-karmada.yaml",
    "nodes/mls-compute-vm2.yaml",
    "nodes/mls-test-vm1.yaml",
]


def _files(folder: Path) -> list[str]:
    return sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file())


def test_upstream_inventory_validates_and_renders(make_repo: Callable[..., Path], invoke: Callable[..., object]) -> None:
    repo = make_repo(None)
    result = invoke("descriptions", "from-inventory", str(INVENTORY), "--out", str(repo / "descriptions"))
    assert result.exit_code == 0, result.output
    assert _files(repo / "descriptions") == EXPECTED

    cluster = yaml.safe_load((repo / "descriptions/clusters/mls-test-manage.yaml").read_text(encoding="utf-8"))
    assert cluster == {"MLSysOpsCluster": {"name": "mls-test-manage", "cluster_id": "mls-test-manage", "nodes": ["mls-test-vm1", "mls-compute-vm2"]}}
    continuum = yaml.safe_load((repo / "descriptions/continuum/mls-test-karmada.yaml").read_text(encoding="utf-8"))
    assert continuum == {"MLSysOpsContinuum": {"name": "mls-test-karmada", "continuum_id": "mls-test-karmada", "clusters": ["mls-test-manage"]}}
    node = yaml.safe_load((repo / "descriptions/nodes/mls-test-vm1.yaml").read_text(encoding="utf-8"))
    assert node["MLSysOpsNode"]["cluster_id"] == "mls-test-manage"
    assert node["MLSysOpsNode"]["environment"] == {"node_type": "virtualized"}

    assert invoke("validate", "--repo", str(repo)).exit_code == 0
    rendered = invoke("render", "--repo", str(repo))
    assert rendered.exit_code == 0, rendered.output
    (daemonset,) = by_kind(build(repo / "overlays/clusters/mls-test-manage/node-agents"), "DaemonSet")
    assert daemonset["metadata"]["name"] == "mlsysops-node-agent-mls-test-manage"


def test_no_credentials_in_descriptions(tmp_path: Path, invoke: Callable[..., object]) -> None:
    out = tmp_path / "descriptions"
    assert invoke("descriptions", "from-inventory", str(INVENTORY), "--out", str(out)).exit_code == 0
    text = "".join(path.read_text(encoding="utf-8") for path in sorted(out.rglob("*.yaml")))
    for secret in ("ansible_", "id_ed25519", ".ssh", "192.0.2.", "operator", "10.10.0.0", "python3"):
        assert secret not in text


def test_hand_written_description_is_kept_without_force(make_repo: Callable[..., Path], invoke: Callable[..., object]) -> None:
    repo = make_repo(None)
    out = repo / "descriptions"
    assert invoke("descriptions", "from-inventory", str(INVENTORY), "--out", str(out)).exit_code == 0
    node = out / "nodes/mls-test-vm1.yaml"
    edited = node.read_text(encoding="utf-8").replace("hardware: {}", "hardware:\n    memory: 4")
    node.write_text(edited, encoding="utf-8")
    (out / "nodes/mls-compute-vm2.yaml").unlink()

    rejected = invoke("descriptions", "from-inventory", str(INVENTORY), "--out", str(out))
    assert rejected.exit_code == 1
    assert f"1 description would be overwritten: {node}" in rejected.output
    assert "--force" in rejected.output
    assert node.read_text(encoding="utf-8") == edited
    assert not (out / "nodes/mls-compute-vm2.yaml").exists()

    forced = invoke("descriptions", "from-inventory", str(INVENTORY), "--out", str(out), "--force")
    assert forced.exit_code == 0, forced.output
    assert "hardware: {}" in node.read_text(encoding="utf-8")
    assert (out / "nodes/mls-compute-vm2.yaml").exists()

    again = invoke("descriptions", "from-inventory", str(INVENTORY), "--out", str(out))
    assert again.exit_code == 0
    assert "already match" in again.output


def test_result_must_validate_with_descriptions_already_there(tmp_path: Path, invoke: Callable[..., object]) -> None:
    out = tmp_path / "descriptions"
    write_tree(out, {"continuum/other-hub.yaml": "MLSysOpsContinuum:\n  continuum_id: other\n  clusters: []\n"})
    result = invoke("descriptions", "from-inventory", str(INVENTORY), "--out", str(out))
    assert result.exit_code == 1
    # The problem names the files where they would land, not in the scratch copy checked.
    assert "(mls-test-karmada.yaml, other-hub.yaml)" in result.output
    assert f"{out}/continuum/" in result.output
    assert _files(out) == ["continuum/other-hub.yaml"]


def test_bad_inventory_is_refused_with_its_line(tmp_path: Path, invoke: Callable[..., object]) -> None:
    inventory = tmp_path / "hosts.yaml"
    inventory.write_text(
        "all:\n  children:\n    hub:\n      hosts:\n        hub-1:\n          labels:\n            mlsysops.eu/continuumLayer: continuum\n"
        "    site:\n      hosts:\n        site-worker:\n          labels:\n            mlsysops.eu/continuumLayer: node\n",
        encoding="utf-8",
    )
    result = invoke("descriptions", "from-inventory", str(inventory), "--out", str(tmp_path / "descriptions"))
    assert result.exit_code == 1
    assert f"{inventory}:10:1: node 'site-worker' is in group 'site', which has no host labelled cluster" in result.output
    assert not (tmp_path / "descriptions").exists()
