"""The verification cache: unchanged kustomizations are skipped, changed ones always build."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import HOST_IP, ORIGIN
from mlsysops_gitops.commands.render import VERIFIED_CACHE, RenderOptions, run_render
from mlsysops_gitops.errors import ToolError
from mlsysops_gitops.repository import files
from mlsysops_gitops.verify import kustomize
from mlsysops_gitops.verify.cache import Inputs, VerifiedCache

TOOL = "kustomize v5.5.0"


def _kustomization(*resources: str, extra: str = "") -> bytes:
    listed = "".join(f"- {resource}\n" for resource in resources)
    return f"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n{listed}{extra}".encode()


def _configmap(name: str, value: str) -> bytes:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  value: {value}\n".encode()


def _tree() -> dict[str, bytes]:
    """A base, two overlays on it (one with a generated ConfigMap) and an unrelated folder."""
    return {
        "base/app/kustomization.yaml": _kustomization("app.yaml"),
        "base/app/app.yaml": _configmap("app", "one"),
        "overlays/a/kustomization.yaml": _kustomization("../../base/app", extra="nameSuffix: -a\nconfigMapGenerator:\n- name: data\n  files:\n  - data/a.yaml\n"),
        "overlays/a/data/a.yaml": b"a: 1\n",
        "overlays/b/kustomization.yaml": _kustomization("../../base/app", extra="nameSuffix: -b\n"),
        "argocd/kustomization.yaml": _kustomization("project.yaml"),
        "argocd/project.yaml": _configmap("project", "x"),
    }


DIRECTORIES = ["argocd", "base/app", "overlays/a", "overlays/b"]


def test_inputs_of_overlay_include_its_base() -> None:
    inputs = Inputs(_tree())

    assert inputs.files("overlays/a") == {
        "overlays/a/kustomization.yaml",
        "overlays/a/data/a.yaml",
        "base/app/kustomization.yaml",
        "base/app/app.yaml",
    }
    assert inputs.files("argocd") == {"argocd/kustomization.yaml", "argocd/project.yaml"}


@pytest.mark.parametrize(
    ("changed", "affected"),
    [
        ("base/app/app.yaml", {"base/app", "overlays/a", "overlays/b"}),
        ("overlays/a/data/a.yaml", {"overlays/a"}),
        ("argocd/project.yaml", {"argocd"}),
    ],
)
def test_digest_changes_with_every_input(changed: str, affected: set[str]) -> None:
    tree = _tree()
    before = {directory: Inputs(tree).digest(directory, TOOL) for directory in DIRECTORIES}
    tree[changed] += b"# one more byte\n"

    after = {directory: Inputs(tree).digest(directory, TOOL) for directory in DIRECTORIES}

    assert {directory for directory in DIRECTORIES if before[directory] != after[directory]} == affected


def test_digest_changes_with_kustomize_version() -> None:
    inputs = Inputs(_tree())

    assert inputs.digest("overlays/b", TOOL) != inputs.digest("overlays/b", "kustomize v5.6.0")


def test_digest_changes_when_file_added_under_folder() -> None:
    tree = _tree()
    before = Inputs(tree).digest("overlays/b", TOOL)
    tree["overlays/b/patch.yaml"] = b"kind: ConfigMap\n"

    assert Inputs(tree).digest("overlays/b", TOOL) != before


@pytest.mark.parametrize(
    "resource",
    [
        "https://github.com/example/repo//deploy?ref=main",
        "../../../outside",
        "/etc/kustomize/base",
        "../missing",
    ],
)
def test_reference_outside_tree_has_no_digest(resource: str) -> None:
    tree = _tree()
    tree["overlays/c/kustomization.yaml"] = _kustomization(resource)

    assert Inputs(tree).digest("overlays/c", TOOL) is None


def test_kustomizations_naming_each_other_have_no_digest() -> None:
    tree = {
        "x/kustomization.yaml": _kustomization("../y"),
        "y/kustomization.yaml": _kustomization("../x"),
    }

    assert Inputs(tree).digest("x", TOOL) is None


def test_cache_ignores_foreign_or_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "verified"
    assert VerifiedCache(path).load() == frozenset()
    path.write_text("some other tool's file\nabc\n")
    assert VerifiedCache(path).load() == frozenset()

    VerifiedCache(path).save(["b", "a"])

    assert VerifiedCache(path).load() == {"a", "b"}


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the directory of every kustomize build, which still runs for real."""
    directories: list[str] = []
    real_build = kustomize.build

    def build(root: Path, directory: str, command: list[str]) -> bytes:
        directories.append(directory)
        return real_build(root, directory, command)

    monkeypatch.setattr(kustomize, "build", build)
    return directories


def _verify(tree: dict[str, bytes], cache_file: Path) -> kustomize.Verification:
    return kustomize.verify_tree(tree, DIRECTORIES, files.stage, jobs=2, cache_file=cache_file)


def test_unchanged_tree_builds_nothing(tmp_path: Path, built: list[str]) -> None:
    cache_file = tmp_path / "verified"

    first = _verify(_tree(), cache_file)
    second = _verify(_tree(), cache_file)

    assert (first.built, first.unchanged) == (4, 0)
    assert (second.built, second.unchanged) == (0, 4)
    assert sorted(built) == DIRECTORIES


def test_changed_base_rebuilds_its_overlays(tmp_path: Path, built: list[str]) -> None:
    cache_file = tmp_path / "verified"
    tree = _tree()
    _verify(tree, cache_file)
    built.clear()
    tree["base/app/app.yaml"] = _configmap("app", "two")

    _verify(tree, cache_file)

    assert sorted(built) == ["base/app", "overlays/a", "overlays/b"]


def test_broken_change_fails_after_cached_success(tmp_path: Path) -> None:
    cache_file = tmp_path / "verified"
    tree = _tree()
    _verify(tree, cache_file)
    # The overlay's own files are unchanged; only the base it builds on breaks.
    tree["base/app/app.yaml"] = b"apiVersion: v1\nkind: ConfigMap\nmetadata: [not, a, mapping]\n"

    with pytest.raises(ToolError, match="kustomize build failed for base/app/"):
        _verify(tree, cache_file)
    with pytest.raises(ToolError, match="kustomize build failed for base/app/"):
        _verify(tree, cache_file)


def test_failed_build_is_not_recorded(tmp_path: Path, built: list[str]) -> None:
    cache_file = tmp_path / "verified"
    tree = _tree()
    tree["overlays/b/kustomization.yaml"] = _kustomization("../../base/app", "missing.yaml")

    with pytest.raises(ToolError, match="overlays/b/"):
        _verify(tree, cache_file)
    built.clear()
    tree["overlays/b/kustomization.yaml"] = _kustomization("../../base/app", extra="nameSuffix: -b\n")
    _verify(tree, cache_file)

    assert built == ["overlays/b"]


def test_new_kustomize_version_rebuilds_all(tmp_path: Path, built: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    cache_file = tmp_path / "verified"
    _verify(_tree(), cache_file)
    built.clear()
    monkeypatch.setattr(kustomize, "tool_identity", lambda command: "kustomize v99.0.0")

    _verify(_tree(), cache_file)

    assert sorted(built) == DIRECTORIES


def test_unknown_version_disables_cache(tmp_path: Path, built: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    cache_file = tmp_path / "verified"
    monkeypatch.setattr(kustomize, "tool_identity", lambda command: None)

    _verify(_tree(), cache_file)
    _verify(_tree(), cache_file)

    assert len(built) == 2 * len(DIRECTORIES)
    assert not cache_file.exists()


def test_staging_holds_only_inputs_of_pending_builds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache_file = tmp_path / "verified"
    tree = _tree()
    _verify(tree, cache_file)
    staged: list[list[str]] = []
    real_stage = files.stage

    def stage(selected: dict[str, bytes]):
        staged.append(sorted(selected))
        return real_stage(selected)

    tree["overlays/a/data/a.yaml"] = b"a: 2\n"
    kustomize.verify_tree(tree, DIRECTORIES, stage, jobs=2, cache_file=cache_file)

    assert staged == [["base/app/app.yaml", "base/app/kustomization.yaml", "overlays/a/data/a.yaml", "overlays/a/kustomization.yaml"]]


def _overlays(count: int, **extra: str) -> dict[str, bytes]:
    """Return the base and ``count`` overlays on it, each with its own name suffix unless ``extra`` replaces it."""
    tree = {key: value for key, value in _tree().items() if key.startswith("base/")}
    for index in range(count):
        name = f"o{index:02d}"
        tree[f"overlays/{name}/kustomization.yaml"] = _kustomization("../../base/app", extra=extra.get(name, f"nameSuffix: -{name}\n"))
    return tree


def test_batch_failure_names_failing_kustomization(tmp_path: Path) -> None:
    tree = _overlays(8, o05="resources:\n- missing.yaml\n")
    directories = ["base/app", *(f"overlays/o{index:02d}" for index in range(8))]

    with pytest.raises(ToolError, match="kustomize build failed for overlays/o05/"):
        kustomize.verify_tree(tree, directories, files.stage, jobs=1, cache_file=tmp_path / "verified")

    # Builds before the failure in path order are recorded; later ones may have been cancelled.
    recorded = VerifiedCache(tmp_path / "verified").load()
    tool = kustomize.tool_identity(kustomize.kustomize_command())
    assert Inputs(tree).digest("overlays/o00", tool) in recorded
    assert Inputs(tree).digest("overlays/o05", tool) not in recorded


def test_batch_with_same_objects_builds_one_by_one(tmp_path: Path, built: list[str]) -> None:
    # Without name suffixes, every overlay emits the base's ConfigMap under one name, so
    # their batch fails although each overlay builds.
    tree = _overlays(4, **{f"o{index:02d}": "" for index in range(4)})
    directories = ["base/app", *(f"overlays/o{index:02d}" for index in range(4))]

    result = kustomize.verify_tree(tree, directories, files.stage, jobs=1, cache_file=tmp_path / "verified")

    assert result.built == 5
    assert [name for name in built if name.startswith(kustomize.BATCH_PREFIX)]
    assert sorted(name for name in built if not name.startswith(kustomize.BATCH_PREFIX)) == directories
    assert len(VerifiedCache(tmp_path / "verified").load()) == 5


# A stand-in for kustomize that succeeds only when another build runs at the same time:
# each build leaves a marker and waits up to 20 s for a second one.
CONCURRENT_KUSTOMIZE = """#!/bin/sh
[ "$1" = version ] && { echo "v0.0.0-test"; exit 0; }
touch "$MARKERS/$$"
for attempt in $(seq 200); do
  [ "$(ls "$MARKERS" | wc -l)" -ge 2 ] && { echo "kind: List"; exit 0; }
  sleep 0.1
done
echo "no other build ran at the same time" >&2
exit 1
"""


def test_builds_run_in_parallel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir, markers = tmp_path / "bin", tmp_path / "markers"
    bin_dir.mkdir()
    markers.mkdir()
    script = bin_dir / "kustomize"
    script.write_text(CONCURRENT_KUSTOMIZE)
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{'/usr/bin:/bin'}")
    monkeypatch.setenv("MARKERS", str(markers))

    outputs = kustomize.build_all(tmp_path, ["one", "two"], jobs=2)

    assert outputs == {"one": b"kind: List\n", "two": b"kind: List\n"}


def test_render_rebuilds_only_changed_cluster(make_repo, built: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    repo = make_repo(None, files={"mlsysops-gitops.yaml": f"karmada_host_ip: {HOST_IP}\nrepo_url: {ORIGIN}\ntarget_revision: main\n"})
    _write_two_clusters(repo)
    options = RenderOptions(repo=repo, commit=False)
    run_render(options)
    first = list(built)
    built.clear()

    node = repo / "descriptions/nodes/east-node-1.yaml"
    node.write_text(node.read_text().replace("cores: 4", "cores: 8"))
    run_render(options)

    assert first
    assert built == ["overlays/clusters/east/node-agents"]
    assert (repo / ".git" / VERIFIED_CACHE).is_file()


def _write_two_clusters(repo: Path) -> None:
    """Write a continuum of clusters east and west with two nodes each."""
    folder = repo / "descriptions"
    for name in ("continuum", "clusters", "nodes"):
        (folder / name).mkdir(parents=True)
    (folder / "continuum/mgmt.yaml").write_text("MLSysOpsContinuum:\n  continuum_id: test\n  clusters: [east, west]\n")
    for cluster in ("east", "west"):
        (folder / f"clusters/{cluster}-master.yaml").write_text(f"MLSysOpsCluster:\n  cluster_id: {cluster}\n  nodes: [{cluster}-node-1, {cluster}-node-2]\n")
        for index in (1, 2):
            (folder / f"nodes/{cluster}-node-{index}.yaml").write_text(
                f"MLSysOpsNode:\n  cluster_id: {cluster}\n  continuum_layer: edge\n"
                "  environment:\n    node_type: native\n    os: ubuntu\n"
                "  hardware:\n    cpu:\n      architecture: amd64\n      cores: 4\n    memory: 8\n"
            )


def test_cache_survives_copy_of_repository(make_repo, built: list[str], tmp_path: Path) -> None:
    """A verified cache copied with the repository still matches: digests hold no absolute paths."""
    repo = make_repo(None, files={"mlsysops-gitops.yaml": f"karmada_host_ip: {HOST_IP}\nrepo_url: {ORIGIN}\ntarget_revision: main\n"})
    _write_two_clusters(repo)
    run_render(RenderOptions(repo=repo, commit=False))
    copy = tmp_path / "copy"
    shutil.copytree(repo, copy, ignore=shutil.ignore_patterns("base", "overlays", "argocd"))
    built.clear()

    run_render(RenderOptions(repo=copy, commit=False))

    assert built == []
