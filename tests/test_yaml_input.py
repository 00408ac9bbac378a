"""YAML the way operators write it: byte-order marks, CRLF, aliases and odd scalars."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import UPSTREAM_DESCRIPTIONS
from mlsysops_gitops.descriptions.yamlfile import MAX_DEPTH, decode, read_document

ENCODINGS: dict[str, Callable[[bytes], bytes]] = {
    "bom": lambda raw: b"\xef\xbb\xbf" + raw,
    "crlf": lambda raw: raw.replace(b"\n", b"\r\n"),
    "bom-crlf": lambda raw: b"\xef\xbb\xbf" + raw.replace(b"\n", b"\r\n"),
    "cr": lambda raw: raw.replace(b"\n", b"\r"),
}


def _outputs(repo: Path) -> dict[str, bytes]:
    found = {}
    for folder in ("base", "overlays", "argocd"):
        for directory, _, names in os.walk(repo / folder):
            for name in names:
                path = Path(directory) / name
                found[path.relative_to(repo).as_posix()] = path.read_bytes()
    return found


@pytest.fixture(scope="module")
def clean_outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Render the upstream descriptions as they are, once for the module."""
    from click.testing import CliRunner

    from conftest import GIT_ENV, git
    from mlsysops_gitops.cli import main

    repo = tmp_path_factory.mktemp("clean") / "gitops"
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "remote", "add", "origin", "https://git.example.com/ops/continuum.git")
    (repo / "descriptions").mkdir()
    for source in UPSTREAM_DESCRIPTIONS.glob("*/*.yaml"):
        target = repo / "descriptions" / source.parent.name / source.name
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(source.read_bytes())
    result = CliRunner().invoke(main, ["render", "--repo", str(repo), "--no-commit"], env={**GIT_ENV, "KARMADA_HOST_IP": "192.0.2.10"})
    assert result.exit_code == 0, result.output
    return _outputs(repo)


@pytest.mark.parametrize("encode", list(ENCODINGS.values()), ids=list(ENCODINGS))
def test_bom_and_line_ends_render_byte_identical(encode: Callable[[bytes], bytes], clean_outputs: dict[str, bytes], make_repo: Callable[..., Path], invoke: Callable[..., object]) -> None:
    repo = make_repo()
    for path in (repo / "descriptions").glob("*/*.yaml"):
        path.write_bytes(encode(path.read_bytes()))

    result = invoke("render", "--repo", str(repo), "--no-commit")

    assert result.exit_code == 0, result.output
    assert _outputs(repo) == clean_outputs


def test_decode_normalises_to_the_clean_text() -> None:
    assert decode(b"\xef\xbb\xbfa: 1\r\nb: 2\rc: 3\n") == "a: 1\nb: 2\nc: 3\n"


def test_recursive_alias_is_rejected() -> None:
    document, problems = read_document("x.yaml", b"A: &loop [*loop]\n", kind="K")

    assert document is None
    assert [problem.format() for problem in problems] == ["x.yaml:1:4: K: an alias refers to a value that contains the alias itself; write the values out"]


def test_aliases_within_limits_are_expanded() -> None:
    document, problems = read_document("x.yaml", b"A: &x [1, 2]\nB: [*x, *x]\n")

    assert problems == []
    assert document is not None and document.data == {"A": [1, 2], "B": [[1, 2], [1, 2]]}


def test_nesting_just_within_the_limit_is_accepted() -> None:
    text = "A: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n"

    document, problems = read_document("x.yaml", text.encode())

    assert problems == []
    assert document is not None


def test_every_duplicate_key_is_reported() -> None:
    document, problems = read_document("x.yaml", b"A:\n  b: 1\n  b: 2\n  c:\n    d: 1\n    d: 1\n", kind="K")

    assert document is None
    assert [problem.format() for problem in problems] == [
        "x.yaml:3:3: K.b: duplicate key 'b' (first on line 2); keep one",
        "x.yaml:6:5: K.c.d: duplicate key 'd' (first on line 5); keep one",
    ]


def test_quoted_yaml11_words_are_strings() -> None:
    document, problems = read_document("x.yaml", b"A: ['yes', \"off\", true, false]\n")

    assert problems == []
    assert document is not None and document.data == {"A": ["yes", "off", True, False]}
    assert document.yaml11_booleans == {}


def test_collection_tag_on_scalar_is_rejected() -> None:
    document, problems = read_document("x.yaml", b"A: !!map x\n", kind="K")

    assert document is None
    assert [problem.format() for problem in problems] == ["x.yaml:1:4: K: unsupported YAML tag 'tag:yaml.org,2002:map'; descriptions hold plain mappings, lists and scalars"]


def test_nesting_past_libyaml_limit_is_rejected() -> None:
    from mlsysops_gitops.descriptions.yamlfile import read_document

    text = "MLSysOpsNode:\n  labels: " + "[" * 30000 + "]" * 30000 + "\n"

    document, problems = read_document("descriptions/nodes/deep.yaml", text.encode())

    assert document is None
    assert len(problems) == 1
    assert problems[0].line == 2
    assert problems[0].message == "values nest deeper than 64 levels; a description nests a few levels only"
