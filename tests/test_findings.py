"""Problems a tester found: each test shows one of them fixed."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import HOST_IP, ORIGIN, PROJECT, git
from gitops_fleet import change_node, fleet_repo, node, rendered_template
from test_validation import node_text

from mlsysops_gitops.cli import main
from mlsysops_gitops.descriptions.rules import MAX_DESCRIPTION_BYTES
from mlsysops_gitops.descriptions.yamlfile import read_document

__all__ = ["fleet_repo", "rendered_template"]

NODE = "descriptions/nodes/mls-test-vm1.yaml"
CLUSTER = "descriptions/clusters/mls-test-manage.yaml"
README = (PROJECT / "README.md").read_text(encoding="utf-8")


def _committed(make_repo: Callable[..., Path], files: dict[str, str] | None = None) -> Path:
    repo = make_repo(files=files)
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", "Add the descriptions")
    return repo


@pytest.fixture(scope="module")
def rendered_upstream(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The upstream descriptions rendered once, without kustomize, for doctor to read."""
    repo = tmp_path_factory.mktemp("upstream") / "gitops"
    shutil.copytree(PROJECT.parent / "shared/reference/upstream/descriptions", repo / "descriptions")
    env = {"KARMADA_HOST_IP": HOST_IP, "MLSYSOPS_GITOPS_REPO_URL": ORIGIN, "MLSYSOPS_GITOPS_TARGET_REVISION": "main"}
    result = CliRunner().invoke(main, ["render", "--repo", str(repo), "--no-verify"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return repo


@pytest.fixture
def upstream_copy(rendered_upstream: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "gitops"
    shutil.copytree(rendered_upstream, copy)
    return copy


# 1. A description too large for its ConfigMap fails validation, not only render.


def test_validate_rejects_a_description_too_large_for_a_configmap(make_repo: Callable[..., Path], invoke: Callable[..., object]) -> None:
    repo = make_repo()
    path = repo / NODE
    padding = "".join(f"# {index:07d} {'x' * 110}\n" for index in range(10_000))
    path.write_text(path.read_text(encoding="utf-8") + padding, encoding="utf-8")
    size = len(path.read_text(encoding="utf-8").encode("utf-8"))
    assert size > MAX_DESCRIPTION_BYTES
    line = f"{NODE}: MLSysOpsNode: description is {size} bytes; a ConfigMap holds at most 1 MiB, so keep each description under {MAX_DESCRIPTION_BYTES} bytes"

    validated = invoke("validate", "--repo", str(repo))
    rendered = invoke("render", "--repo", str(repo), "--no-verify")

    assert validated.exit_code == 1
    assert line in validated.stderr.splitlines()
    assert rendered.exit_code == 1
    assert line in rendered.stderr.splitlines()
    assert not (repo / "overlays").exists()


# 2. YAML 1.1 number forms (the rejected ones are cases in test_validation.py).


@pytest.mark.parametrize(("text", "value"), [("0", 0), ("10", 10), ("-3", -3), ("2.5", 2.5), ("0.5", 0.5), ("'010'", "010"), ('"1:30"', "1:30"), ("1e3", "1e3")])
def test_plain_decimal_numbers_and_quoted_forms_are_accepted(text: str, value: object) -> None:
    document, problems = read_document("f.yaml", f"a: {text}\n".encode())

    assert problems == []
    assert document is not None and document.data == {"a": value}


def test_every_ambiguous_number_of_a_file_is_reported(make_repo: Callable[..., Path], invoke: Callable[..., object]) -> None:
    repo = make_repo(files={NODE: node_text(body="  labels: [09, 1_000.5]\n").replace("memory: 4", "memory: 0b100")})

    result = invoke("validate", "--repo", str(repo))

    assert result.exit_code == 1
    assert "MLSysOpsNode.hardware.memory: unquoted '0b100' is the number 4 for YAML 1.1 readers" in result.stderr
    assert "MLSysOpsNode.labels[0]: unquoted '09' is a string for YAML 1.1 readers such as PyYAML, which the agents use, but the number 9 for YAML 1.2 readers" in result.stderr
    assert "MLSysOpsNode.labels[1]: unquoted '1_000.5' is the number 1000.5 for YAML 1.1 readers" in result.stderr
    assert result.stderr.splitlines()[-1] == "3 errors found"


# 3. Inventories: vault values, and bad host names located in the inventory.

VAULT_INVENTORY = """\
all:
  vars:
    ansible_become_password: !vault |
      $ANSIBLE_VAULT;1.1;AES256
      62313365396662343061393464336163383764373764613633653634306231386433626436623361
  children:
    hub:
      hosts:
        hub-1:
          labels:
            mlsysops.eu/continuumLayer: continuum
    site:
      hosts:
        site-master:
          k3s_cluster_name: site
          labels:
            mlsysops.eu/continuumLayer: cluster
        {worker}:
          tokens: [!vault "$ANSIBLE_VAULT;1.1;AES256 6231", plain]
          mode: 0644
          labels:
            mlsysops.eu/continuumLayer: node
"""


def test_inventory_vault_values_are_dropped(tmp_path: Path, invoke: Callable[..., object]) -> None:
    inventory = tmp_path / "hosts.yaml"
    inventory.write_text(VAULT_INVENTORY.format(worker="site-worker"), encoding="utf-8")
    out = tmp_path / "descriptions"

    result = invoke("descriptions", "from-inventory", str(inventory), "--out", str(out))

    assert result.exit_code == 0, result.output
    written = sorted(path.relative_to(out).as_posix() for path in out.rglob("*.yaml"))
    assert written == ["clusters/site-master.yaml", "continuum/hub-1.yaml", "nodes/site-worker.yaml"]
    text = "".join(path.read_text(encoding="utf-8") for path in sorted(out.rglob("*.yaml")))
    assert "VAULT" not in text
    assert "6231" not in text


def test_inventory_host_name_is_reported_at_its_inventory_line(tmp_path: Path, invoke: Callable[..., object]) -> None:
    inventory = tmp_path / "hosts.yaml"
    inventory.write_text(VAULT_INVENTORY.format(worker="MLS_Test_VM1"), encoding="utf-8")
    out = tmp_path / "out" / "descriptions"

    result = invoke("descriptions", "from-inventory", str(inventory), "--out", str(out))

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{inventory}:18:1: host name 'MLS_Test_VM1' is not a lower-case RFC 1123 name (a-z, 0-9, '-' and '.') starting and ending with a letter or digit; did you mean 'mls-test-vm1'?",
        "1 error found; nothing was written",
    ]
    assert not out.exists()


# 4. Exit codes.


def test_diff_tells_changes_from_input_errors(fleet_repo: Path, invoke: Callable[..., object]) -> None:
    change_node(fleet_repo, node("cluster-01", 0))
    changed = invoke("diff", "--repo", str(fleet_repo))
    bad_base = invoke("diff", "--repo", str(fleet_repo), "--base", "no-such-branch")
    (fleet_repo / "descriptions/nodes" / f"{node('cluster-01', 0)}.yaml").write_text("MLSysOpsNode: [\n", encoding="utf-8")
    invalid = invoke("diff", "--repo", str(fleet_repo))

    assert changed.exit_code == 1, changed.output
    assert bad_base.exit_code == 5
    assert invalid.exit_code == 5
    assert invalid.stderr.splitlines()[-1] == "1 error found"


def test_diff_exit_codes_are_documented(invoke: Callable[..., object]) -> None:
    help_text = " ".join(invoke("diff", "--help").output.split())

    assert "Exits 0 without changes, 1 with changes, 5 when the input is wrong" in help_text
    assert "| `5` | `diff` only: its input is wrong" in README
    assert "a failing pre-commit hook or commit signing, counts here" in README
    assert "`3` kustomize or git failed" not in README


def test_failing_pre_commit_hook_exits_1(make_repo: Callable[..., Path], invoke: Callable[..., object]) -> None:
    repo = make_repo()
    hook = repo / ".git/hooks/pre-commit"
    hook.write_text("#!/bin/sh\necho 'refused by policy' >&2\nexit 1\n", encoding="utf-8")
    hook.chmod(0o755)

    result = invoke("render", "--repo", str(repo), "--no-verify")

    assert result.exit_code == 1, result.output
    assert "git commit failed: refused by policy" in result.stderr


def test_doctor_fails_on_an_orphaned_application(upstream_copy: Path, invoke: Callable[..., object]) -> None:
    apps = upstream_copy / "argocd/apps"
    source = next(path for path in sorted(apps.glob("*.yaml")) if path.name != "kustomization.yaml")
    text = source.read_text(encoding="utf-8")
    name = next(line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("  name:"))
    (apps / "orphan.yaml").write_text(text.replace(f"  name: {name}\n", "  name: orphan\n", 1), encoding="utf-8")

    result = invoke("doctor", "--repo", str(upstream_copy))

    assert result.exit_code == 1, result.output
    assert "argocd/apps/orphan.yaml: Application: no parent Application lists this file, so Argo CD never creates it" in result.stdout.splitlines()


# 5. Wording.


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("MLSysOpsNode:\n  1: x\n", "key '1' is read as an integer, not a field name; quote it ('1')"),
        ("5\n", "expected a mapping with the one key 'MLSysOpsNode', found an integer"),
    ],
)
def test_integer_is_named_an_integer(text: str, message: str, make_repo: Callable[..., Path], invoke: Callable[..., object]) -> None:
    repo = make_repo(files={NODE: text})

    result = invoke("validate", "--repo", str(repo))

    assert result.exit_code == 1
    assert any(line.endswith(message) for line in result.stderr.splitlines()), result.stderr


def test_render_check_counts_one_file_in_the_singular(make_repo: Callable[..., Path], invoke: Callable[..., object]) -> None:
    repo = _committed(make_repo)
    assert invoke("render", "--repo", str(repo), "--no-verify").exit_code == 0
    path = repo / NODE
    path.write_text(path.read_text(encoding="utf-8") + "# a comment\n", encoding="utf-8")

    result = invoke("render", "--repo", str(repo), "--check", "--no-verify")

    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == "1 rendered file differs from a fresh render; run mlsysops-gitops render"


def test_rename_suggestion_keeps_accented_letters(make_repo: Callable[..., Path], invoke: Callable[..., object]) -> None:
    repo = make_repo(files={"descriptions/nodes/édge-wörker.yaml": "MLSysOpsNode:\n  cluster_id: mls-test-manage\n  continuum_layer: edge\n  environment: {}\n  hardware: {}\n"})

    result = invoke("validate", "--repo", str(repo))

    assert result.exit_code == 1
    assert "rename the file to edge-worker.yaml" in result.stderr


def test_alias_bomb_in_a_list_points_at_the_alias(make_repo: Callable[..., Path], invoke: Callable[..., object]) -> None:
    levels = "".join(f"  - &a{level} [{', '.join([f'*a{level - 1}'] * 10)}]\n" for level in range(1, 8))
    repo = make_repo(files={NODE: "MLSysOpsNode:\n  - &a0 [x, x, x, x, x, x, x, x, x, x]\n" + levels})

    result = invoke("validate", "--repo", str(repo))

    # Line 6 holds a4; its eighth alias (column 45) is where the count runs out.
    assert f"{NODE}:6:45: MLSysOpsNode[4][7]: aliases expand to more than 100000 values; write the values out instead of nesting aliases" in result.stderr.splitlines()


def test_secrets_does_not_claim_it_wrote_nothing(make_repo: Callable[..., Path], invoke: Callable[..., object]) -> None:
    repo = make_repo(files={"mlsysops-gitops.yaml": "secrets_mode: [\n"})

    result = invoke("secrets", "--repo", str(repo))

    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == "1 error found"


def test_doctor_reports_malformed_argocd_cm_data(upstream_copy: Path, invoke: Callable[..., object], tmp_path: Path) -> None:
    argocd_cm = tmp_path / "argocd-cm.yaml"
    argocd_cm.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-cm\ndata: [1]\n", encoding="utf-8")

    result = invoke("doctor", "--repo", str(upstream_copy), "--argocd-cm", str(argocd_cm), "--format", "json")

    assert result.exit_code == 1
    problems = json.loads(result.stdout)
    assert [problem["field"] for problem in problems if problem["path"] == str(argocd_cm)] == ["data"]
    assert "no health check" not in result.stdout
    assert "data is a list, not a mapping of keys to strings" in result.stdout


def test_readme_says_application_unknown_fields_are_errors() -> None:
    assert "In application descriptions they are always errors" in README
