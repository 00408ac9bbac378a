"""Every kind of bad description: the exact message line, the exit code, an untouched repository.

Each case starts from the upstream descriptions in a committed Git repository, writes or
removes a few files, and runs ``render``. The case's line must appear on stderr exactly,
the run must end with the error count, and neither the work tree nor Git may change.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import git

NODE = "descriptions/nodes/mls-test-vm1.yaml"
OTHER_NODE = "descriptions/nodes/mls-compute-vm2.yaml"
CLUSTER = "descriptions/clusters/mls-test-manage.yaml"
CONTINUUM = "descriptions/continuum/mls-test-karmada.yaml"


def node_text(*, name: str = "mls-test-vm1", cluster_id: str = "mls-test-manage", body: str = "") -> str:
    """Return a valid node description, with ``body`` lines appended under the top-level key."""
    return (
        "MLSysOpsNode:\n"
        f"  name: {name}\n"
        f"  cluster_id: {cluster_id}\n"
        "  continuum_layer: edge\n"
        "  environment:\n"
        "    node_type: virtualized\n"
        "    os: ubuntu\n"
        "  hardware:\n"
        "    cpu:\n"
        "      cores: 2\n"
        "      architecture: amd64\n"
        "    memory: 4\n"
        '    disk: "120"\n'
        f"{body}"
    )


def cluster_text(*, cluster_id: str = "mls-test-manage", nodes: tuple[str, ...] = ("mls-test-vm1", "mls-compute-vm2"), name: str = "mls-test-manage") -> str:
    listed = "".join(f"    - {node}\n" for node in nodes)
    return f"MLSysOpsCluster:\n  name: {name}\n  cluster_id: {cluster_id}\n  nodes:\n{listed}"


def continuum_text(*clusters: str, continuum_id: str = "mls-test-karmada") -> str:
    listed = "".join(f"    - {cluster}\n" for cluster in clusters or ("mls-test-manage",))
    return f"MLSysOpsContinuum:\n  continuum_id: {continuum_id}\n  clusters:\n{listed}"


ALIAS_BOMB = "MLSysOpsNode:\n  labels: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"  l{level}: &a{level} [*a{level - 1}, *a{level - 1}, *a{level - 1}, *a{level - 1}, *a{level - 1}, *a{level - 1}, *a{level - 1}, *a{level - 1}, *a{level - 1}, *a{level - 1}]\n"
    for level in range(1, 8)
)
LONG_ID = "c" * 41


@dataclasses.dataclass(frozen=True)
class Case:
    """One bad input: the files to write (bytes or text; None removes), the expected line and exit code."""

    files: dict[str, str | bytes | None]
    line: str
    args: tuple[str, ...] = ()
    exit_code: int = 1


CASES = {
    # YAML as operators write it.
    "syntax-error": Case({NODE: "MLSysOpsNode:\n  name: [mls-test-vm1\n"}, f"{NODE}:3:1: MLSysOpsNode: invalid YAML: did not find expected ',' or ']'"),
    "tab-indentation": Case({NODE: node_text().replace("    cpu:", "\tcpu:").replace("    memory", "\tmemory")}, f"{NODE}:9:1: MLSysOpsNode: tab character in indentation (and on 1 more lines); YAML indents with spaces only"),
    "empty-file": Case({NODE: ""}, f"{NODE}:1:1: MLSysOpsNode: file is empty or holds only comments; expected one description"),
    "comment-only": Case({NODE: "# to do\n"}, f"{NODE}:1:1: MLSysOpsNode: file is empty or holds only comments; expected one description"),
    "several-documents": Case({NODE: node_text() + "---\n" + node_text()}, f"{NODE}:15:1: MLSysOpsNode: file holds 2 YAML documents; expected exactly one (remove the '---' separators)"),
    "wrong-top-level-key": Case({NODE: node_text().replace("MLSysOpsNode:", "MLSysOpsCluster:")}, f"{NODE}:1:1: MLSysOpsNode: top-level key 'MLSysOpsCluster' belongs in descriptions/clusters/; files in descriptions/nodes/ hold 'MLSysOpsNode'"),
    "misspelt-top-level-key": Case({NODE: node_text().replace("MLSysOpsNode:", "MLSysOpsNodes:")}, f"{NODE}:1:1: MLSysOpsNode: top-level key 'MLSysOpsNodes' is not 'MLSysOpsNode'; files in descriptions/nodes/ hold 'MLSysOpsNode'"),
    "kubernetes-resource": Case({NODE: "apiVersion: mlsysops.eu/v1\nkind: MLSysOpsNode\nmetadata:\n  name: mls-test-vm1\n"}, f"{NODE}:1:1: MLSysOpsNode: this is a Kubernetes resource; a description holds the CRD's fields under the one key 'MLSysOpsNode'"),
    "duplicate-key": Case({NODE: node_text(body="  continuum_layer: cloud\n")}, f"{NODE}:14:3: MLSysOpsNode.continuum_layer: duplicate key 'continuum_layer' (first on line 4); keep one"),
    "yaml11-boolean-for-boolean": Case({NODE: node_text(body="  mobile: yes\n")}, f"{NODE}:14:11: MLSysOpsNode.mobile: unquoted 'yes' is true for YAML 1.1 readers such as PyYAML, which the agents use, but a string for YAML 1.2 readers; write true"),
    "yaml11-boolean-for-string": Case({NODE: node_text(body="  labels:\n    - off\n")}, f"{NODE}:15:7: MLSysOpsNode.labels[0]: unquoted 'off' is read as the boolean false, not as a string; quote it ('off')"),
    "yaml11-boolean-key": Case({NODE: node_text(body="  on: ubuntu\n")}, f"{NODE}:14:3: MLSysOpsNode: key 'on' is read as a YAML 1.1 boolean, not a field name; quote it ('on')"),
    "yaml11-octal": Case({NODE: node_text().replace("cores: 2", "cores: 010")}, f"{NODE}:10:14: MLSysOpsNode.hardware.cpu.cores: unquoted '010' is the number 8 for YAML 1.1 readers such as PyYAML, which the agents use, but YAML 1.2 readers may read another number or a string; write 8, or quote it ('010') to keep it as text"),
    "yaml11-hexadecimal": Case({NODE: node_text().replace("cores: 2", "cores: 0x10")}, f"{NODE}:10:14: MLSysOpsNode.hardware.cpu.cores: unquoted '0x10' is the number 16 for YAML 1.1 readers such as PyYAML, which the agents use, but YAML 1.2 readers may read another number or a string; write 16, or quote it ('0x10') to keep it as text"),
    "yaml11-sexagesimal": Case({NODE: node_text().replace("cores: 2", "cores: 1:30")}, f"{NODE}:10:14: MLSysOpsNode.hardware.cpu.cores: unquoted '1:30' is the number 90 for YAML 1.1 readers such as PyYAML, which the agents use, but YAML 1.2 readers may read another number or a string; write 90, or quote it ('1:30') to keep it as text"),
    "yaml11-underscore": Case({NODE: node_text().replace("cores: 2", "cores: 4_0")}, f"{NODE}:10:14: MLSysOpsNode.hardware.cpu.cores: unquoted '4_0' is the number 40 for YAML 1.1 readers such as PyYAML, which the agents use, but YAML 1.2 readers may read another number or a string; write 40, or quote it ('4_0') to keep it as text"),
    "yaml12-octal-in-string": Case({NODE: node_text(body="  labels: [0o17]\n")}, f"{NODE}:14:12: MLSysOpsNode.labels[0]: unquoted '0o17' is a string for YAML 1.1 readers such as PyYAML, which the agents use, but the number 15 for YAML 1.2 readers; quote it ('0o17') to keep it as text, or write 15"),
    "alias-bomb": Case({NODE: ALIAS_BOMB}, f"{NODE}:6:47: MLSysOpsNode.l4[7]: aliases expand to more than 100000 values; write the values out instead of nesting aliases"),
    "deep-nesting": Case({NODE: "MLSysOpsNode:\n  labels: " + "[" * 600 + "]" * 600 + "\n"}, f"{NODE}:2:74: MLSysOpsNode: values nest deeper than 64 levels; a description nests a few levels only"),
    "merge-key": Case({NODE: node_text(body="  <<: {mobile: true}\n")}, f"{NODE}:14:3: MLSysOpsNode: merge keys (<<) are not supported; write the keys out"),
    "unsupported-tag": Case({NODE: node_text(body="  labels: !!python/tuple [a]\n")}, f"{NODE}:14:11: MLSysOpsNode: unsupported YAML tag 'tag:yaml.org,2002:python/tuple'; descriptions hold plain mappings, lists and scalars"),
    "two-files-one-host": Case({NODE.replace(".yaml", ".yml"): node_text()}, f"{NODE.replace('.yaml', '.yml')}:1:1: MLSysOpsNode: two files for host 'mls-test-vm1': mls-test-vm1.yaml and mls-test-vm1.yml; keep one"),
    "not-utf8": Case({NODE: node_text(body="  labels: [caf\xe9]\n").encode("latin-1")}, f"{NODE}:14:1: MLSysOpsNode: file is not valid UTF-8 (byte 0xe9 at offset 252); save it as UTF-8"),
    "utf16": Case({NODE: node_text().encode("utf-16")}, f"{NODE}:1:1: MLSysOpsNode: file is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8"),
    # Fields against the CRD.
    "unknown-field-strict": Case({NODE: node_text(body="  mobility: true\n")}, f"{NODE}:14:3: MLSysOpsNode.mobility: unknown field; did you mean 'mobile'?", ("--strict",)),
    "unknown-nested-field-strict": Case({NODE: node_text(body="  network_resources:\n    basic_interface:\n      nmae: wifi\n")}, f"{NODE}:16:7: MLSysOpsNode.network_resources.basic_interface.nmae: unknown field; did you mean 'name'?", ("--strict",)),
    "wrong-type": Case({NODE: node_text().replace("memory: 4", 'memory: "4"')}, f"{NODE}:12:13: MLSysOpsNode.hardware.memory: expected an integer, got '4' (a string); remove the quotes"),
    "number-for-string": Case({NODE: node_text().replace('disk: "120"', "disk: 120")}, f"{NODE}:13:11: MLSysOpsNode.hardware.disk: expected a string, got 120 (an integer); quote it to make it a string"),
    "exponent-read-as-text": Case({NODE: node_text().replace("cores: 2\n", "cores: 2\n      frequency: [2.4e9]\n")}, f"{NODE}:11:19: MLSysOpsNode.hardware.cpu.frequency[0]: expected a number, got '2.4e9' (a string); YAML 1.1 (PyYAML) reads an exponent without a dot and a sign as text: write it like 2.4e+9, or in full"),
    "enum-value": Case({NODE: node_text().replace("continuum_layer: edge", "continuum_layer: egde")}, f"{NODE}:4:20: MLSysOpsNode.continuum_layer: invalid value 'egde'; expected one of 'cloud', 'edge_infrastructure', 'edge', 'far_edge'; did you mean 'edge'?"),
    "enum-in-list-item": Case({NODE: node_text(body="  sensors:\n    - camera:\n        model: imx477\n        supported_resolutions: [640x480]\n")}, f"{NODE}:17:33: MLSysOpsNode.sensors[0].camera.supported_resolutions[0]: invalid value '640x480'; expected one of '1024x768', '4056x3040'"),
    "missing-required": Case({NODE: node_text().split("  hardware:")[0]}, f"{NODE}:1:1: MLSysOpsNode.hardware: required field is missing; add it"),
    "missing-required-nested": Case({NODE: node_text(body="  acceleration_api:\n    - call_name: image_inference\n")}, f"{NODE}:15:7: MLSysOpsNode.acceleration_api[0].supported_platforms: required field is missing; add it"),
    "empty-value": Case({NODE: node_text(body="  power:\n")}, f"{NODE}:14:3: MLSysOpsNode.power: expected a mapping of fields, got nothing (an empty value); give a value or remove the key"),
    "network-password": Case({NODE: node_text(body="  network_resources:\n    redirection_interface:\n      - connection_type: wifi\n        pairing_info:\n          net_key: hunter2\n")}, f"{NODE}:18:20: MLSysOpsNode.network_resources.redirection_interface[0].pairing_info.net_key: a network password would be committed to Git and stored in a ConfigMap; remove net_key and give the key to the node out of band"),
    # Rules across files.
    "name-differs-from-file": Case({NODE: node_text(name="mls-test-vm3")}, f"{NODE}:2:9: MLSysOpsNode.name: name 'mls-test-vm3' differs from the file name; agents look up their description as <host name>.yaml, so rename the file to mls-test-vm3.yaml or set name to 'mls-test-vm1'"),
    "host-name-not-rfc1123": Case({NODE: None, "descriptions/nodes/MLS_Test_VM1.yaml": node_text(name="MLS_Test_VM1"), CLUSTER: cluster_text(nodes=("MLS_Test_VM1", "mls-compute-vm2"))}, "descriptions/nodes/MLS_Test_VM1.yaml:1:1: MLSysOpsNode: host name (the file name) 'MLS_Test_VM1' is not a lower-case RFC 1123 name (a-z, 0-9, '-' and '.') starting and ending with a letter or digit; rename the file to mls-test-vm1.yaml"),
    "cluster-id-too-long": Case({CLUSTER: cluster_text(cluster_id=LONG_ID), CONTINUUM: continuum_text(LONG_ID), NODE: node_text(cluster_id=LONG_ID), OTHER_NODE: node_text(name="mls-compute-vm2", cluster_id=LONG_ID)}, f"{CLUSTER}:3:15: MLSysOpsCluster.cluster_id: cluster_id '{LONG_ID}' is 41 characters long; the maximum is 40"),
    "continuum-id-not-rfc1123": Case({CONTINUUM: continuum_text(continuum_id="MLS.Test")}, f"{CONTINUUM}:2:17: MLSysOpsContinuum.continuum_id: continuum_id 'MLS.Test' is not a lower-case RFC 1123 label (a-z, 0-9 and '-') starting and ending with a letter or digit; did you mean 'mls-test'?"),
    "no-continuum": Case({CONTINUUM: None}, "descriptions/continuum: MLSysOpsContinuum: no continuum description; expected exactly one file descriptions/continuum/<host>.yaml"),
    "two-continuums": Case({"descriptions/continuum/second-hub.yaml": continuum_text()}, "descriptions/continuum/second-hub.yaml:1:1: MLSysOpsContinuum: expected exactly one continuum description, found 2 (mls-test-karmada.yaml, second-hub.yaml); keep one"),
    "continuum-lists-missing-cluster": Case({CONTINUUM: continuum_text("mls-test-manage", "mls-test-manag")}, f"{CONTINUUM}:5:7: MLSysOpsContinuum.clusters[1]: cluster 'mls-test-manag' has no description: no file in descriptions/clusters/ has this cluster_id; did you mean 'mls-test-manage'?"),
    "continuum-lists-cluster-twice": Case({CONTINUUM: continuum_text("mls-test-manage", "mls-test-manage")}, f"{CONTINUUM}:5:7: MLSysOpsContinuum.clusters[1]: cluster 'mls-test-manage' is listed twice (also at index 0); keep one"),
    "cluster-not-listed": Case({"descriptions/clusters/edge-master.yaml": cluster_text(cluster_id="edge", nodes=(), name="edge-master")}, "descriptions/clusters/edge-master.yaml:3:15: MLSysOpsCluster.cluster_id: cluster 'edge' is not listed in the clusters of descriptions/continuum/mls-test-karmada.yaml; add it there"),
    "duplicate-cluster-id": Case({"descriptions/clusters/mls-test-manage2.yaml": cluster_text(nodes=(), name="mls-test-manage2")}, "descriptions/clusters/mls-test-manage2.yaml:3:15: MLSysOpsCluster.cluster_id: cluster_id 'mls-test-manage' is also the cluster_id of descriptions/clusters/mls-test-manage.yaml; each member cluster has one description"),
    "cluster-lists-missing-node": Case({CLUSTER: cluster_text(nodes=("mls-test-vm1", "mls-compute-vm2", "mls-test-vm2"))}, f"{CLUSTER}:7:7: MLSysOpsCluster.nodes[2]: node 'mls-test-vm2' has no description; expected descriptions/nodes/mls-test-vm2.yaml; did you mean 'mls-test-vm1'?"),
    "node-in-two-clusters": Case({"descriptions/clusters/zz-master.yaml": cluster_text(cluster_id="zz", nodes=("mls-test-vm1",), name="zz-master"), CONTINUUM: continuum_text("mls-test-manage", "zz")}, "descriptions/clusters/zz-master.yaml:5:7: MLSysOpsCluster.nodes[0]: node 'mls-test-vm1' is also listed by descriptions/clusters/mls-test-manage.yaml; a node belongs to exactly one cluster"),
    "node-not-listed": Case({CLUSTER: cluster_text(nodes=("mls-compute-vm2",))}, f"{NODE}:1:1: MLSysOpsNode: node 'mls-test-vm1' is not listed in the nodes of any cluster; its cluster_id is 'mls-test-manage'; add it to its cluster's nodes"),
    "node-cluster-id-mismatch": Case({NODE: node_text(cluster_id="mls-other")}, f"{NODE}:3:15: MLSysOpsNode.cluster_id: cluster_id is 'mls-other' but cluster 'mls-test-manage' ({CLUSTER}) lists this node; set cluster_id to 'mls-test-manage' or move the node"),
}


def _committed_repo(make_repo: Callable[..., Path]) -> Path:
    repo = make_repo()
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", "Add the upstream descriptions")
    return repo


def _apply(repo: Path, files: dict[str, str | bytes | None]) -> None:
    for relative, content in files.items():
        path = repo / relative
        if content is None:
            path.unlink()
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def _snapshot(repo: Path) -> tuple[str, dict[str, bytes], list[str]]:
    """Return what a failed run must leave as it was: Git status, every work-tree file, the commits."""
    tree = {}
    for directory, subdirectories, names in os.walk(repo):
        subdirectories[:] = sorted(name for name in subdirectories if name != ".git")
        for name in names:
            path = Path(directory) / name
            tree[path.relative_to(repo).as_posix()] = path.read_bytes()
    return git(repo, "status", "--porcelain"), tree, git(repo, "log", "--format=%H").split()


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_bad_input_is_reported_and_nothing_changes(case: Case, make_repo: Callable[..., Path], invoke: Callable[..., object]) -> None:
    repo = _committed_repo(make_repo)
    _apply(repo, case.files)
    before = _snapshot(repo)

    result = invoke("render", "--repo", str(repo), *case.args)

    lines = result.stderr.splitlines()
    assert result.exit_code == case.exit_code, result.stderr
    assert case.line in lines, result.stderr
    assert lines[-1].endswith("found; nothing was written")
    assert "Traceback" not in result.output
    assert _snapshot(repo) == before


def test_unknown_field_is_a_warning_by_default(make_repo: Callable[..., Path], invoke: Callable[..., object]) -> None:
    repo = make_repo(files={NODE: node_text(body="  hardware_x: 1\n")})

    result = invoke("validate", "--repo", str(repo))

    assert result.exit_code == 0, result.stderr
    assert f"{NODE}:14:3: MLSysOpsNode.hardware_x: warning: unknown field; did you mean 'hardware'?" in result.stderr.splitlines()
    assert result.stderr.splitlines()[-1] == "descriptions and settings are valid (1 warning)"


def test_every_problem_of_a_run_is_reported(make_repo: Callable[..., Path], invoke: Callable[..., object]) -> None:
    repo = make_repo(files={NODE: node_text().replace("memory: 4", "memory: four"), OTHER_NODE: "", CONTINUUM: continuum_text("mls-test-manage", "ghost")})

    result = invoke("validate", "--repo", str(repo))

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{CONTINUUM}:5:7: MLSysOpsContinuum.clusters[1]: cluster 'ghost' has no description: no file in descriptions/clusters/ has this cluster_id",
        f"{OTHER_NODE}:1:1: MLSysOpsNode: file is empty or holds only comments; expected one description",
        f"{NODE}:12:13: MLSysOpsNode.hardware.memory: expected an integer, got 'four' (a string)",
        "3 errors found",
    ]


def test_json_format_lists_the_same_problems(make_repo: Callable[..., Path], invoke: Callable[..., object]) -> None:
    repo = make_repo(files={NODE: node_text(body="  mobile: off\n  mobility: true\n")})

    result = invoke("validate", "--repo", str(repo), "--format", "json")

    assert result.exit_code == 1
    assert json.loads(result.stdout) == [
        {"path": NODE, "line": 14, "column": 11, "kind": "MLSysOpsNode", "field": "mobile", "severity": "error",
         "message": "unquoted 'off' is false for YAML 1.1 readers such as PyYAML, which the agents use, but a string for YAML 1.2 readers; write false"},
        {"path": NODE, "line": 15, "column": 3, "kind": "MLSysOpsNode", "field": "mobility", "severity": "warning", "message": "unknown field; did you mean 'mobile'?"},
    ]


def test_debug_shows_the_traceback(make_repo: Callable[..., Path], invoke: Callable[..., object]) -> None:
    repo = make_repo(files={NODE: ""})

    result = invoke("--debug", "validate", "--repo", str(repo))

    assert result.exit_code == 1
    assert "Traceback" in result.stderr
    assert "InputError" in result.stderr
