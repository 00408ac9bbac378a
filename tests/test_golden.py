"""The repository's own example: its committed outputs are the golden tree of a render."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import PROJECT

OUTPUT_DIRS = ("base", "overlays", "argocd")


def _files(root: Path) -> dict[str, bytes]:
    found = {}
    for folder in OUTPUT_DIRS:
        for path in sorted((root / folder).rglob("*")):
            if path.is_file():
                found[path.relative_to(root).as_posix()] = path.read_bytes()
    return found


def test_example_matches_golden_tree(tmp_path: Path, invoke) -> None:
    work = tmp_path / "example"
    shutil.copytree(PROJECT / "descriptions", work / "descriptions")
    shutil.copy(PROJECT / "mlsysops-gitops.yaml", work / "mlsysops-gitops.yaml")

    result = invoke("render", "--repo", str(work), "--no-commit", env={"KARMADA_HOST_IP": None})

    assert result.exit_code == 0, result.output
    golden = _files(PROJECT)
    fresh = _files(work)
    assert sorted(fresh) == sorted(golden)
    for path, content in golden.items():
        assert fresh[path] == content, f"{path} differs from a fresh render; run mlsysops-gitops render"
