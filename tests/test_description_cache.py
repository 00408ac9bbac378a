"""The cache of parsed descriptions: unchanged files skip parsing, and nothing reported or rendered changes."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from conftest import HOST_IP, ORIGIN
from mlsysops_gitops.commands.render import DESCRIPTIONS_CACHE, RenderOptions, run_render
from mlsysops_gitops.descriptions import reader
from mlsysops_gitops.descriptions.reader import read_fleet
from mlsysops_gitops.errors import InputError, Problem

SETTINGS = f"karmada_host_ip: {HOST_IP}\nrepo_url: {ORIGIN}\ntarget_revision: main\n"
NODE = "descriptions/nodes/mls-test-vm1.yaml"
OTHER_NODE = "descriptions/nodes/mls-compute-vm2.yaml"
CLUSTER = "descriptions/clusters/mls-test-manage.yaml"


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the path of every file the YAML parser reads."""
    paths: list[str] = []
    real = reader.read_document

    def read_document(path: str, raw: bytes, **options):
        paths.append(path)
        return real(path, raw, **options)

    monkeypatch.setattr(reader, "read_document", read_document)
    return paths


@pytest.fixture
def repo(make_repo) -> Path:
    return make_repo(files={"mlsysops-gitops.yaml": SETTINGS})


def _read(repo: Path, cache_file: Path | None, *, strict: bool = False) -> tuple[list[Problem], list[str]]:
    """Return every problem of reading ``repo``, and the specs read when there was no error."""
    try:
        fleet, warnings = read_fleet(repo, strict=strict, cache_file=cache_file)
    except InputError as error:
        return error.problems, []
    files = [fleet.continuum, *fleet.clusters.values(), *fleet.nodes.values()]
    return warnings, [f"{file.path} {file.text!r} {file.spec.model_dump_json()}" for file in files]


def _edit(repo: Path, path: str, old: str, new: str) -> None:
    target = repo / path
    text = target.read_text(encoding="utf-8")
    assert old in text
    target.write_text(text.replace(old, new, 1), encoding="utf-8")


def _outputs(repo: Path) -> dict[str, bytes]:
    return {path.relative_to(repo).as_posix(): path.read_bytes() for folder in ("base", "overlays", "argocd") for path in sorted((repo / folder).rglob("*")) if path.is_file()}


def test_cache_parses_changed_files_only(repo: Path, tmp_path: Path, parsed: list[str]) -> None:
    cache_file = tmp_path / "cache"
    first = _read(repo, cache_file)
    assert len(parsed) == 4
    assert cache_file.is_file()

    parsed.clear()
    written = cache_file.stat().st_ino
    assert _read(repo, cache_file) == first
    assert parsed == []
    # Nothing new to keep, so the file is not written again.
    assert cache_file.stat().st_ino == written

    _edit(repo, NODE, "memory: 4", "memory: 8")
    changed = _read(repo, cache_file)
    assert parsed == [NODE]
    assert changed == _read(repo, None)
    assert "memory\":8" in "".join(changed[1]).replace(" ", "")


@pytest.mark.parametrize(
    ("path", "old", "new"),
    [
        # A value of the wrong type, located by line and column in the edited file.
        (NODE, "memory: 4", "memory: four"),
        # A null in a required field, whose message depends on the value standing for null.
        (NODE, "memory: 4", "memory:"),
        # A YAML 1.1 boolean, recorded while parsing.
        (NODE, "os: ubuntu", "os: yes"),
        # Broken YAML: never cached, reported by the parser.
        (NODE, "memory: 4", "memory: [4"),
        # Cross-file rules that report on fields of the files left unchanged, so of cached files.
        (CLUSTER, "cluster_id: mls-test-manage", "cluster_id: mls-other"),
    ],
    ids=["wrong-type", "null", "yaml11-boolean", "invalid-yaml", "cross-file"],
)
def test_cache_reports_invalid_edit_unchanged(repo: Path, tmp_path: Path, path: str, old: str, new: str) -> None:
    cache_file = tmp_path / "cache"
    _read(repo, cache_file)
    _edit(repo, path, old, new)

    cached, specs = _read(repo, cache_file)

    assert specs == []
    assert any(problem.severity == "error" for problem in cached)
    assert cached == _read(repo, None)[0]
    assert all(problem.line > 0 for problem in cached)
    if path == CLUSTER:
        assert {(problem.path, problem.line, problem.field) for problem in cached if problem.path != CLUSTER} == {
            ("descriptions/continuum/mls-test-karmada.yaml", 4, "clusters[0]"),
            (NODE, 3, "cluster_id"),
            (OTHER_NODE, 3, "cluster_id"),
        }


@pytest.mark.parametrize("strict", [False, True])
def test_cache_keeps_warnings_of_cached_files(repo: Path, tmp_path: Path, parsed: list[str], strict: bool) -> None:
    # A null and a date in unknown fields: both must come back from the cache as they were parsed.
    _edit(repo, OTHER_NODE, "MLSysOpsNode:\n", "MLSysOpsNode:\n  rack_label:\n  installed_on: 2024-05-01\n")
    cache_file = tmp_path / "cache"
    without_cache = _read(repo, None, strict=strict)
    _read(repo, cache_file, strict=strict)
    parsed.clear()

    cached = _read(repo, cache_file, strict=strict)

    assert parsed == []
    assert cached == without_cache
    problems = cached[0]
    assert [(problem.path, problem.line, problem.field, problem.severity) for problem in problems] == [
        (OTHER_NODE, 2, "rack_label", "error" if strict else "warning"),
        (OTHER_NODE, 3, "installed_on", "error" if strict else "warning"),
    ]


def test_cache_keeps_outputs_byte_identical(make_repo, tmp_path: Path) -> None:
    cached = make_repo(name="cached", files={"mlsysops-gitops.yaml": SETTINGS})
    fresh = make_repo(name="fresh", files={"mlsysops-gitops.yaml": SETTINGS})
    run_render(RenderOptions(repo=cached, commit=False, verify=False))
    assert (cached / ".git" / DESCRIPTIONS_CACHE).is_file()

    for repo in (cached, fresh):
        _edit(repo, NODE, "memory: 4", "memory: 16")
    result = run_render(RenderOptions(repo=cached, commit=False))
    run_render(RenderOptions(repo=fresh, commit=False))

    assert result.changes.updated
    assert _outputs(cached) == _outputs(fresh)
    assert b"memory: 16" in _outputs(cached)["overlays/clusters/mls-test-manage/node-agents/descriptions/mls-test-vm1.yaml"]


@pytest.mark.parametrize(
    "content",
    [b"", b"not a pickle", pickle.dumps(("mlsysops-gitops parsed descriptions v0", "old", {}))],
    ids=["empty", "garbage", "other-version"],
)
def test_cache_damaged_or_foreign_is_ignored(repo: Path, tmp_path: Path, parsed: list[str], content: bytes) -> None:
    cache_file = tmp_path / "cache"
    cache_file.write_bytes(content)

    assert _read(repo, cache_file) == _read(repo, None)
    assert len(parsed) == 8
    parsed.clear()
    _read(repo, cache_file)
    assert parsed == []


def test_cache_entry_with_other_classes_rejected(repo: Path, tmp_path: Path, parsed: list[str]) -> None:
    """The cache lives in the Git directory, so loading it must not import or call anything."""
    cache_file = tmp_path / "cache"
    _read(repo, cache_file)
    header, version, entries = pickle.loads(cache_file.read_bytes())
    # Entries are pickled one by one; any of them naming a class other than a date is refused.
    forged = {key: pickle.dumps((Path("/"), ())) for key in entries}
    cache_file.write_bytes(pickle.dumps((header, version, forged)))
    parsed.clear()

    assert _read(repo, cache_file) == _read(repo, None)
    assert len(parsed) == 8
