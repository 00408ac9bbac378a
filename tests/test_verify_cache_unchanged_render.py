"""A render with nothing changed reuses the last render; any changed input or output renders in full."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import HOST_IP, ORIGIN
from mlsysops_gitops.commands import render
from mlsysops_gitops.commands.render import RenderOptions, run_render

SETTINGS = f"karmada_host_ip: {HOST_IP}\nrepo_url: {ORIGIN}\ntarget_revision: main\n"


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Record every full render (reading, validating and rendering the descriptions)."""
    calls: list[Path] = []
    real_build = render.build

    def build(options: RenderOptions):
        calls.append(options.repo)
        return real_build(options)

    monkeypatch.setattr(render, "build", build)
    return calls


@pytest.fixture
def repo(make_repo) -> Path:
    repository = make_repo(files={"mlsysops-gitops.yaml": SETTINGS})
    run_render(RenderOptions(repo=repository, commit=False, verify=False))
    return repository


def _outputs(repo: Path) -> dict[str, bytes]:
    return {path.relative_to(repo).as_posix(): path.read_bytes() for folder in ("base", "overlays", "argocd") for path in sorted((repo / folder).rglob("*")) if path.is_file()}


def test_unchanged_render_skips_reading(repo: Path, builds: list[Path]) -> None:
    before = _outputs(repo)

    result = run_render(RenderOptions(repo=repo, commit=False))

    assert builds == []
    assert not result.changes
    assert _outputs(repo) == before


def test_changed_description_renders_in_full(repo: Path, builds: list[Path]) -> None:
    node = next((repo / "descriptions" / "nodes").iterdir())
    node.write_text(node.read_text().rstrip("\n") + "\n  mobile: false\n")

    result = run_render(RenderOptions(repo=repo, commit=False))

    assert builds == [repo]
    assert result.changes.updated


def test_new_file_under_descriptions_renders_in_full(repo: Path, builds: list[Path]) -> None:
    (repo / "descriptions" / "notes.txt").write_text("not a description\n")

    run_render(RenderOptions(repo=repo, commit=False))

    assert builds == [repo]


def test_hand_edited_output_renders_in_full(repo: Path, builds: list[Path]) -> None:
    target = repo / "argocd" / "root.yaml"
    rendered = target.read_bytes()
    target.write_bytes(rendered + b"# edited\n")

    result = run_render(RenderOptions(repo=repo, commit=False, force=True))

    assert builds == [repo]
    assert result.changes.updated == ("argocd/root.yaml",)
    assert target.read_bytes() == rendered


def test_changed_setting_renders_in_full(repo: Path, builds: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLSYSOPS_GITOPS_KARMADA_DESTINATION", "other-karmada")

    result = run_render(RenderOptions(repo=repo, commit=False))

    assert builds == [repo]
    assert result.changes.updated


def test_strict_renders_in_full(repo: Path, builds: list[Path]) -> None:
    run_render(RenderOptions(repo=repo, commit=False, strict=True))

    assert builds == [repo]


def test_reused_render_repeats_warnings(make_repo, builds: list[Path]) -> None:
    repository = make_repo(files={"mlsysops-gitops.yaml": SETTINGS})
    node = next((repository / "descriptions" / "nodes").iterdir())
    node.write_text(node.read_text().rstrip("\n") + "\n  colour: blue\n")
    first = run_render(RenderOptions(repo=repository, commit=False, verify=False))

    second = run_render(RenderOptions(repo=repository, commit=False))

    assert builds == [repository]
    assert [warning.message for warning in first.warnings if "colour" in warning.format()]
    assert second.warnings == first.warnings


def test_unreadable_record_renders_in_full(repo: Path, builds: list[Path]) -> None:
    (repo / ".git" / "mlsysops-gitops" / "last-render.json").write_text("{not json")

    run_render(RenderOptions(repo=repo, commit=False))

    assert builds == [repo]
